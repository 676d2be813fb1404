import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { PROJECT_ROOT, runSim, SIM_BIN } from './helpers.js';
import { writeUsersDir } from './support/users-files.js';

/** Lines a user reads after a mistake or a success (issue 27, the smaller defects): one clear line each. */
const scratch = mkdtempSync(join(tmpdir(), 'sim-lines-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const users = writeUsersDir(join(scratch, 'users'), 60);
const small = ['--users-dir', users, '--n-users', '30', '--conditions', 'control,treatment_soc_message', '--num-contents', '4'];
const lines = (stderr: string) => stderr.trim().split('\n').filter((l) => !/^sim: no OpenAI API key found|^sim: building dist/.test(l));

describe('huge sizes are refused before anything is written', { timeout: 120_000 }, () => {
  it('sim run --num-contents 100000000: one line naming the flag and the memory, exit 2, no store', () => {
    const out = join(scratch, 'huge');
    const started = Date.now();
    const r = runSim(['run', '--n-users', '100', '--num-contents', '100000000', '--out', out]);
    expect(r.status).toBe(2);
    expect(lines(r.stderr)).toEqual([expect.stringMatching(/^sim: --num-contents 100000000: the run would need about \d[\d,.]* GB of memory \(100,000,000 initial posts x 2\.9 KB\), more than/)]);
    expect(existsSync(out)).toBe(false);
    // Refused from the settings, not after filling the heap (it ran 63 s before dying).
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('sim users generate --n 100000000: refused the same way, nothing written', () => {
    const out = join(scratch, 'users-huge');
    const r = runSim(['users', 'generate', '--n', '100000000', '--out', out]);
    expect(r.status).toBe(2);
    expect(lines(r.stderr)).toEqual([expect.stringMatching(/^sim: --n 100000000: generating the population would need about [\d,]+ GB of memory/)]);
    expect(existsSync(out)).toBe(false);
  });

  it('sim plan --check 1000000000 is refused before its pilot runs', () => {
    const r = runSim(['plan', '--effect', '0.2', '--check', '1000000000', '--out', join(scratch, 'plan-huge')]);
    expect(r.status).toBe(2);
    expect(lines(r.stderr)).toEqual([expect.stringMatching(/^sim: --check 1000000000: 1,000,000,000 offline runs would need about [\d,]+ GB of memory/)]);
  });

  it('a heap raised with NODE_OPTIONS is what the check compares with', () => {
    // 2,000,000 initial posts need about 5.5 GB: over the default heap (about 4 GB), within 9 GB.
    const asked = ['run', '--n-users', '100', '--num-contents', '2000000', '--dry-run'];
    const small = runSim(asked, { env: { NODE_OPTIONS: '--max-old-space-size=2000' } });
    expect(small.status).toBe(2);
    expect(lines(small.stderr)[0]).toMatch(/more than Node's heap limit \([\d.]+ GB\); use a smaller value, or raise the limit: NODE_OPTIONS=--max-old-space-size=8000/);
    const raised = runSim(asked, { env: { NODE_OPTIONS: '--max-old-space-size=9000' } });
    expect(raised.status).toBe(0);
    expect(raised.stdout).toMatch(/initial posts 2000000/);
  });
});

describe('a store with runs of seeds 1 and 2', { timeout: 240_000 }, () => {
  const out = join(scratch, 'two-seeds');
  const fingerprints: string[] = [];
  beforeAll(() => {
    for (const seed of ['1', '2']) {
      const r = runSim(['run', ...small, '--seed', seed, '--out', out]);
      expect(r.status, r.stderr).toBe(0);
      fingerprints.push(/fingerprint ([0-9a-f]{64})/.exec(r.stdout)![1]);
    }
  });
  const runCount = () => JSON.parse(runSim(['runs', '--json', '--out', out]).stdout).length as number;

  it('sim replay --seed 1 checks run 1 (the latest run has seed 2) and records no new run', () => {
    const r = runSim(['replay', '--seed', '1', '--out', out]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toMatch(new RegExp(`^identical ${fingerprints[0]}`));
    expect(runCount()).toBe(2);
  });

  it('sim export events --to FILE says what it wrote: the run, the file, the events (counted in the file) and streams', () => {
    const to = join(scratch, 'events-1.jsonl');
    const r = runSim(['export', 'events', '1', '--out', out, '--to', to]);
    expect(r.status, r.stderr).toBe(0);
    const count = readFileSync(to, 'utf8').trimEnd().split('\n').length;
    expect(count).toBeGreaterThan(100);
    // The warmup and the two conditions.
    expect(r.stdout).toBe(`exported run 1 to ${to}: ${count.toLocaleString('en-US')} events in 3 streams\n`);
    // To standard output, the events are the output and nothing else is said.
    const piped = runSim(['export', 'events', '1', '--out', out]);
    expect(piped.stdout.trimEnd().split('\n')).toHaveLength(count);
    expect(lines(piped.stderr)).toEqual(['']);
  });

  it('sim plan --effect -0.3 plans what +0.3 needs and says so; two pilot seeds explain a between-seed variance of 0', () => {
    const down = runSim(['plan', '--effect', '-0.3', '--pilot', '1', '2', '--out', out]);
    const up = runSim(['plan', '--effect', '0.3', '--pilot', '1', '2', '--out', out]);
    expect(down.status, down.stderr).toBe(0);
    const [first, ...rest] = down.stdout.split('\n');
    expect(first).toMatch(/^plan: detect an effect of -0\.3 on the final likelihood \(0-4\) \(a decrease: the two-sided test needs the design \+0\.3 needs\) with power/);
    expect(rest).toEqual(up.stdout.split('\n').slice(1));
    expect(down.stdout).not.toMatch(/0\.00e\+0/);
    expect(down.stdout).toMatch(/between-seed variance (0: the 2 pilot seeds' effects vary|[\d.]+ \(sd [\d.]+\) from 2 pilot seeds)/);
  });

  it('sim report --compare result_data pools its seed_<n> folders (it took only result_data/seed_1)', () => {
    const to = join(scratch, 'report-compare');
    const r = runSim(['report', '1', '--out', out, '--to', to, '--compare', join(PROJECT_ROOT, 'result_data')]);
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(readFileSync(join(to, 'report.json'), 'utf8')) as { compare: { source: string; conditions: Array<{ condition: string; users: number }> } };
    expect(report.compare.source).toMatch(/result_data, 5 seeds pooled \(1, 2, 3, 4, 5\)$/);
    // 2,000 users per seed, five seeds.
    expect(report.compare.conditions.find((c) => c.condition === 'control')!.users).toBe(10_000);
  });

  it('a seed no run has is refused naming the runs; --new-run makes the new run', () => {
    const refused = runSim(['replay', '--seed', '3', '--out', out]);
    expect(refused.status).toBe(1);
    expect(lines(refused.stderr)).toEqual([expect.stringMatching(/^sim: --seed 3: no run in .* was recorded with seed 3 \(run 1 seed 1, run 2 seed 2\); to run the latest run's config under seed 3 as a new run, add --new-run$/)]);
    expect(runCount()).toBe(2);
    const made = runSim(['replay', '--seed', '3', '--new-run', '--out', out]);
    expect(made.status, made.stderr).toBe(0);
    expect(made.stderr).toMatch(/running the recorded config under seed 3 as run 3/);
    expect(runCount()).toBe(3);
  });
});

describe('the command line itself', { timeout: 120_000 }, () => {
  it('help of a command that does not exist names it and exits 2, as the command itself does', () => {
    for (const args of [['bogus', '--help'], ['help', 'bogus'], ['--debug', 'bogus', '-h']]) {
      const r = runSim(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.split('\n')[0]).toBe("sim: unknown command 'bogus'");
    }
    expect(runSim(['help', 'rnu']).stderr).toMatch(/Did you mean run\?/);
    // Help of a real command is still help.
    const help = runSim(['help', 'plan']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^Usage: sim plan/);
    // The same one level down: a subcommand that does not exist is named, not its parent's help.
    for (const args of [['export', 'bogus', '--help'], ['users', 'bogus', '-h']]) {
      const r = runSim(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.split('\n')[0]).toBe("sim: unknown command 'bogus'");
    }
    const sub = runSim(['export', 'csv', '--help']);
    expect(sub.status).toBe(0);
    expect(sub.stdout).toMatch(/^Usage: sim export csv/);
  });

  it('sim plan --help states each default once', () => {
    const help = runSim(['plan', '--help']).stdout.replace(/\s+/g, ' ');
    expect(help).toMatch(/--power <p> target power \(default: 0\.8\)/);
    expect(help).not.toMatch(/\(default [^()]*\) \(default: /);
    for (const command of [['run'], ['resume'], ['replay'], ['report'], ['runs'], ['users', 'generate'], ['calibrate'], ['export', 'csv'], ['show', 'user']]) {
      expect(runSim([...command, '--help']).stdout.replace(/\s+/g, ' '), command.join(' ')).not.toMatch(/\(default [^()]*\) \(default: /);
    }
  });

  it('sim plan --effect: a decrease is planned as the same increase and says so; beyond the scale is refused', () => {
    const out = join(scratch, 'plan-none');
    const beyond = runSim(['plan', '--effect', '5', '--out', out]);
    expect(beyond.status).toBe(2);
    expect(lines(beyond.stderr)).toEqual(['sim: --effect: 5 is not a likelihood difference (the scale is 0-4, so between -4 and 4, e.g. 0.2)']);
    expect(runSim(['plan', '--effect', '0', '--out', out]).stderr).toMatch(/--effect: "0" is not a non-zero number/);
  });
});

describe('notices in an 80-column terminal', { timeout: 120_000 }, () => {
  // util-linux `script` gives the command a terminal of its own, sized with stty.
  it.skipIf(!existsSync('/usr/bin/script'))('fit: every line sim run writes is at most 80 characters (they were 106-177)', () => {
    const out = join(scratch, 'tty');
    const command = `stty cols 80; ${JSON.stringify(process.execPath)} ${JSON.stringify(SIM_BIN)} run ${small.join(' ')} --out ${JSON.stringify(out)}`;
    const r = spawnSync('/usr/bin/script', ['-q', '-c', command, '/dev/null'], { cwd: PROJECT_ROOT, encoding: 'utf8', env: { ...process.env, OPENAI_API_KEY: '' }, timeout: 100_000 });
    expect(r.status, r.stdout).toBe(0);
    // The progress line redraws itself with \r: only what is left on screen counts.
    const screen = r.stdout.split(/\r?\n/).map((l) => l.split('\r').pop()!.replace(/\x1b\[[0-9;]*[A-Za-z]/g, ''));
    expect(screen.some((l) => /offline persona model/.test(l))).toBe(true);
    expect(screen.filter((l) => l.length > 80)).toEqual([]);
  });
});
