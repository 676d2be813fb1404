import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventStore } from '../src/sim/store.js';
import { runSim } from './helpers.js';
import { sqliteOf } from './helpers.js';
import { writeUsersDir } from './support/users-files.js';

const scratch = mkdtempSync(join(tmpdir(), 'sim-run-'));
const users = writeUsersDir(join(scratch, 'users'), 120);
const base = ['--users-dir', users, '--n-users', '80', '--seed', '3', '--conditions', 'control,treatment_soc_message,experiment_info_message'];
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const fingerprints = (out: string) => (JSON.parse(runSim(['runs', '--json', '--out', out]).stdout) as Array<{ fingerprint: string; status: string }>);

describe('sim run', () => {
  let first: ReturnType<typeof runSim>;
  beforeAll(() => {
    first = runSim(['run', ...base, '--out', join(scratch, 'a')]);
  });

  it('runs the experiment offline, says so, and prints the summary table', () => {
    expect(first.stderr).toMatch(/offline persona model.*NOT an LLM/);
    expect(first.status).toBe(0);
    // not a terminal, so laid out for 80 columns: one block per condition
    expect(first.stdout).toMatch(/^control\n {2}eligible +\d+ +turnout +[\d.]+%/m);
    const table = first.stdout.slice(first.stdout.indexOf('\ncontrol\n'));
    for (const line of table.split('\n')) expect(line.length, line).toBeLessThanOrEqual(80);
    for (const c of ['control', 'treatment_soc_message', 'experiment_info_message']) expect(first.stdout).toContain(c);
    expect(first.stdout).toMatch(/effect vs control/);
    expect(existsSync(join(scratch, 'a', 'logs', 'run-1.log'))).toBe(true);
  });

  it('gives the same fingerprint for the same seed in another directory', () => {
    const second = runSim(['run', ...base, '--out', join(scratch, 'b')]);
    expect(second.status).toBe(0);
    const [a] = fingerprints(join(scratch, 'a'));
    const [b] = fingerprints(join(scratch, 'b'));
    expect(a.status).toBe('finished');
    expect(b.fingerprint).toBe(a.fingerprint);
  });

  it('replays a finished run exactly', () => {
    const replay = runSim(['replay', '--seed', '3', '--out', join(scratch, 'a')]);
    expect(replay.status).toBe(0);
    expect(replay.stdout.trim()).toBe(`identical ${fingerprints(join(scratch, 'a'))[0].fingerprint}`);
  });

  it('says a finished run is finished on resume, and exits 0', () => {
    const resume = runSim(['resume', '--out', join(scratch, 'a')]);
    expect(resume.status).toBe(0);
    expect(resume.stdout).toMatch(/run 1 is already finished/);
  });

  it('restores deleted projection rows with project --rebuild', async () => {
    const out = join(scratch, 'a');
    const store = await EventStore.open(out);
    const count = () => Number((sqliteOf(store).sqlite.prepare('select count(*) as n from proj_agent_rounds').get() as { n: number }).n);
    const before = count();
    await sqliteOf(store).db.deleteFrom('proj_agent_rounds').where('round', '>', 5).execute();
    expect(count()).toBeLessThan(before);
    const rebuilt = runSim(['project', '--rebuild', '--out', out]);
    expect(rebuilt.status).toBe(0);
    expect(rebuilt.stdout).toMatch(/hash chains intact/);
    expect(count()).toBe(before);
    await store.close();
  });

  it('detects a tampered event in replay and names it', async () => {
    const out = join(scratch, 'b');
    const store = await EventStore.open(out);
    sqliteOf(store).sqlite.prepare(`update events set payload = '{"likelihood":0}' where position = (select min(position) from events where type = 'VotingIntentionStated' and round = 12)`).run();
    await store.close();
    const replay = runSim(['replay', '--seed', '3', '--out', out]);
    expect(replay.status).toBe(1);
    expect(replay.stdout).toMatch(/diverged in stream \S+ at sequence \d+ \(round 12, agent \d+\)/);
    expect(replay.stdout).toMatch(/recorded: VotingIntentionStated \{"likelihood":0\}/);
    const project = runSim(['project', '--out', out]);
    expect(project.status).toBe(1);
    expect(project.stderr).toMatch(/broken at stream position \d+/);
  });
});

describe('sim run refuses bad input before writing anything', () => {
  it('lists every problem of an invalid config and creates no database', () => {
    const config = join(scratch, 'bad.json');
    writeFileSync(config, JSON.stringify({ n_users: 1, feed: { length: 0, interest_share: 0.6, followed_share: 0.2, trending_share: 0.15 }, colour: 'red' }));
    const out = join(scratch, 'bad-out');
    const result = runSim(['run', '--config', config, '--out', out]);
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/bad\.json: 3 problems: /);
    for (const problem of ['(root): unknown key "colour"', 'n_users: must be at least 2', 'feed.length: must be at least 1']) expect(result.stderr).toContain(problem);
    expect(existsSync(join(out, 'sim.db'))).toBe(false);
  });

  it('names the flag for a malformed number', () => {
    const result = runSim(['run', '--n-users', 'many', '--out', join(scratch, 'x')]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/--n-users: "many" is not an integer/);
  });

  it('accepts the reference snake_case flags', () => {
    const out = join(scratch, 'snake');
    const result = runSim(['run', '--users-dir', users, '--n_users', '30', '--output_dir', out, '--skip_main', '--num_contents', '5']);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/warmup only/);
    const cont = runSim(['run', '--users-dir', users, '--n_users', '30', '--output_dir', out, '--skip_warmup', '--conditions', 'control', '--num_contents', '5']);
    expect(cont.status).toBe(0);
    expect(cont.stdout).toMatch(/control/);
  });
});
