import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalCdf } from '../src/domain/power.js';
import { runSim } from './helpers.js';
import { writeUsersDir } from './support/users-files.js';

/**
 * `sim plan` end to end on a small population: a recorded pilot, the designs as JSON with powers
 * recomputed here from the printed noise, and a short --check in worker threads.
 */
const scratch = mkdtempSync(join(tmpdir(), 'sim-plan-'));
const users = writeUsersDir(join(scratch, 'users'), 400);
const out = join(scratch, 'out');
const Z = 1.959963984540054;

beforeAll(() => {
  const run = runSim(['run', '--provider', 'offline', '--users-dir', users, '--n-users', '300', '--seed', '5', '--conditions', 'control,treatment_soc_message', '--out', out]);
  expect(run.status, run.stderr).toBe(0);
}, 180_000);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('sim plan', () => {
  it('gives designs whose power follows from the pilot variances, and checks the recommended one in threads', () => {
    const r = runSim(['plan', '--effect', '0.3', '--pilot', '1', '--out', out, '--users-dir', users, '--check', '3', '--workers', '2', '--json'], { timeoutMs: 300_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/variances from pilot run 1 \(300 users, seed 5\)/);
    expect(r.stderr).toMatch(/--check took [\d.]+s/);
    const plan = JSON.parse(r.stdout);
    const noise = plan.noise.treatment_soc_message;
    expect(noise.included).toBeGreaterThan(0);
    expect(noise.included).toBeLessThanOrEqual(1);
    // every design within the population (400 users), and its power by the normal formula from the noise
    expect(plan.designs.length).toBeGreaterThan(2);
    for (const d of plan.designs) {
      expect(d.users).toBeLessThanOrEqual(400);
      for (const [kind, variance] of [['paired', noise.pairedVariance], ['unpaired', noise.unpairedVariance]] as const) {
        const se = Math.sqrt((variance / (noise.included * d.users) + noise.tau2) / d.seeds);
        const expected = normalCdf(0.3 / se - Z) + normalCdf(-0.3 / se - Z);
        expect(Math.abs(d.power.treatment_soc_message[kind] - expected)).toBeLessThan(1e-9);
      }
    }
    // more users never lose power at a given number of seeds
    for (const a of plan.designs) for (const b of plan.designs) if (a.seeds === b.seeds && a.users < b.users) expect(b.power.treatment_soc_message.paired).toBeGreaterThanOrEqual(a.power.treatment_soc_message.paired);
    const paired = plan.recommended.paired;
    expect(paired.power.treatment_soc_message.paired).toBeGreaterThanOrEqual(0.8);
    expect(plan.check).toMatchObject({ design: { users: paired.users, seeds: paired.seeds }, replications: 3, threads: 2 });
    const c = plan.check.conditions.treatment_soc_message;
    // planned against the offline model's own effect (the pilot's paired estimate), by the same formula
    const se = Math.sqrt((noise.pairedVariance / (noise.included * paired.users) + noise.tau2) / paired.seeds);
    expect(Math.abs(c.planned.paired - (normalCdf(Math.abs(c.modelEffect) / se - Z) + normalCdf(-Math.abs(c.modelEffect) / se - Z)))).toBeLessThan(1e-9);
    for (const v of [c.empirical.paired, c.empirical.unpaired]) expect([0, 1 / 3, 2 / 3, 1].some((x) => Math.abs(x - v) < 1e-12)).toBe(true);
  }, 300_000);

  it('prints a table with costs, and says when it made its own pilot', () => {
    const r = runSim(['plan', '--effect', '0.05', '--metric', 'turnout', '--users-dir', users, '--pilot-users', '200', '--out', out], { timeoutMs: 300_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/no --pilot: making an offline pilot run of 200 users .* not an LLM/);
    // not a terminal: a table when it fits 80 columns, else one block per design
    expect(r.stdout).toMatch(/^users +seeds +power paired +power unpaired +LLM calls +tokens +cost|^users \d+(  <- (un)?paired)*\n {2}seeds +\d+ +power paired +[\d.]+%/m);
    expect(r.stdout).toMatch(/<- paired/);
    expect(r.stdout).toMatch(/recommended, paired: /);
  }, 300_000);

  it('refuses bad flags in one line with exit 2', () => {
    const cases: Array<[string[], string]> = [
      [['--effect', '0'], 'sim: --effect: "0" is not a non-zero number'],
      [['--effect', '0.1', '--metric', 'votes'], 'sim: --metric: "votes" is not likelihood or turnout'],
      [['--effect', '0.1', '--power', '1.5'], 'sim: --power: "1.5" is not a probability between 0 and 1'],
      [['--effect', '3', '--metric', 'turnout'], 'sim: --effect: 3 is not a turnout difference (a share between -1 and 1, e.g. 0.03)'],
      [['--effect', '0.1', '--conditions', 'control'], 'sim: --conditions: name the conditions to compare with control (control itself is always run)'],
      [['--effect', '0.1', '--pilot', '1', '--conditions', 'treatment_info_message', '--out', out], 'sim: --pilot 1: run 1 has no treatment_info_message stream to take variances from'],
    ];
    for (const [args, message] of cases) {
      const r = runSim(['plan', ...args]);
      expect(r.stderr.trim(), args.join(' ')).toBe(message);
      expect(r.status, args.join(' ')).toBe(2);
    }
  }, 300_000);
});
