import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSim } from './helpers.js';
import { freshPostgresDatabase, postgresForTests, postgresRequired } from './support/store-backends.js';

/**
 * `sim runs` and `sim status` as listings (issue 27): one line per run within the 80 columns of a
 * pipe, live runs first in `sim status`, `--run ID` for one run's streams, the last round of an
 * interrupted run told truthfully.
 */
const scratch = mkdtempSync(join(tmpdir(), 'sim-status-'));
/** Each test spawns `sim` several times; on a loaded 2-core machine one spawn can take 20 s. */
const SPAWNS = 300_000;
const server = postgresForTests();
const skip = server.url || postgresRequired ? null : server.reason;
const drops: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const drop of drops) await drop().catch(() => undefined);
  rmSync(scratch, { recursive: true, force: true });
});

/**
 * Makes run 1 of a store look interrupted in round 12 of `stream`: the events after that round's
 * RoundCompleted taken away and the head moved back to it (what a kill -9 in round 13 leaves), its
 * status left "running".
 */
function interruptInRound12(query: (sql: string, params: unknown[]) => Promise<Array<Record<string, unknown>>>, placeholder: (n: number) => string, stream: string) {
  const p = placeholder;
  return (async () => {
    const [cut] = await query(`select stream_position, hash from events where stream_id = ${p(1)} and type = 'RoundCompleted' and round = 12`, [stream]);
    await query(`delete from events where stream_id = ${p(1)} and stream_position > ${p(2)}`, [stream, cut.stream_position]);
    await query(`update streams set last_position = ${p(1)}, last_hash = ${p(2)} where stream_id = ${p(3)}`, [cut.stream_position, cut.hash, stream]);
    await query(`update runs set status = 'running' where id = 1`, []);
  })();
}

describe('sim runs on a SQLite store', () => {
  const out = join(scratch, 'sqlite');

  beforeAll(() => {
    const run = runSim(['run', '--n-users', '40', '--seed', '2', '--conditions', 'control,treatment_soc_message', '--provider', 'offline', '--out', out]);
    expect(run.status, run.stderr).toBe(0);
  }, SPAWNS);

  it('shows an interrupted run at the round it reached in the condition it was in, not at another condition\'s round 30', async () => {
    const db = new Database(join(out, 'sim.db'));
    try {
      await interruptInRound12(async (sql, params) => {
        const statement = db.prepare(sql);
        if (statement.reader) return statement.all(...params) as Array<Record<string, unknown>>;
        statement.run(...params);
        return [];
      }, () => '?', 'run/1/treatment_soc_message');
    } finally {
      db.close();
    }
    const table = runSim(['runs', '--out', out]);
    expect(table.status, table.stderr).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(80);
    // The stream's name is cut to fit 80 columns.
    expect(lines[2]).toMatch(/^ *1 +2 +interrupted +12 \(treat\S*… +\d+ +0 +[0-9a-f]{16} +ok$/);
    const [run] = JSON.parse(runSim(['runs', '--json', '--out', out]).stdout) as Array<Record<string, unknown>>;
    expect(run).toMatchObject({ id: 1, status: 'interrupted', lastRound: 12, inProgress: 'treatment_soc_message', streams: 3, streamsFinished: 2, fellBack: 0, chains: { ok: true } });
    expect(run.streamProgress).toEqual([
      { stream: 'control', events: expect.any(Number), lastRound: 30, finished: true, fellBack: 0 },
      { stream: 'treatment_soc_message', events: expect.any(Number), lastRound: 12, finished: false, fellBack: 0 },
      { stream: 'warmup', events: expect.any(Number), lastRound: 0, finished: true, fellBack: 0 },
    ]);
  }, SPAWNS);
});

describe.skipIf(skip !== null)(`sim status on PostgreSQL${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let store = '';

  beforeAll(async () => {
    if (!server.url) throw new Error(`SIM_REQUIRE_POSTGRES=1 but ${server.reason}`);
    const db = await freshPostgresDatabase(server.url);
    drops.push(db.drop);
    store = db.url;
    // Run 1: recorded, then interrupted in round 12 of its second condition; runs 2 and 3: finished; runs 4 and 5: submitted, queued (no worker runs).
    const first = runSim(['run', '--n-users', '40', '--seed', '1', '--conditions', 'control,treatment_soc_message', '--provider', 'offline', '--store', store, '--out', join(scratch, 'pg-out')]);
    expect(first.status, first.stderr).toBe(0);
    const client = new pg.Client({ connectionString: store });
    await client.connect();
    try {
      await interruptInRound12(async (sql, params) => (await client.query(sql, params)).rows, (n) => `$${n}`, 'run/1/treatment_soc_message');
    } finally {
      await client.end();
    }
    for (const seed of [2, 3]) {
      const done = runSim(['run', '--n-users', '40', '--seed', String(seed), '--conditions', 'control', '--provider', 'offline', '--store', store, '--out', join(scratch, 'pg-out')]);
      expect(done.status, done.stderr).toBe(0);
    }
    for (const seed of [4, 5]) {
      const submitted = runSim(['submit', '--n-users', '40', '--seed', String(seed), '--conditions', 'control', '--provider', 'offline', '--store', store]);
      expect(submitted.status, submitted.stderr).toBe(0);
    }
  }, SPAWNS);

  it('prints one line per run within 80 columns, live runs first, then the others, most recent first', () => {
    const result = runSim(['status', '--store', store]);
    expect(result.status, result.stderr).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2 + 5);
    for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(80);
    expect(lines[0]).toMatch(/^run +status +done +jobs +round +rounds\/s +workers$/);
    expect(lines.slice(2).map((l) => Number(l.trim().split(/ +/)[0]))).toEqual([5, 4, 3, 2, 1]);
    expect(lines[2]).toMatch(/^ *5 +running +0\/2 +1 queued +- \(warmup\)$/);
    expect(lines[4]).toMatch(/^ *3 +finished +2\/2 +done +30$/);
    // Run 1 has no job (it was run by `sim run`) and no process holds it: interrupted, at round 12 of the condition it stopped in.
    expect(lines[6]).toMatch(/^ *1 +interrupted +2\/3 +- +12 \(treatment_soc_message\)$/);
  }, SPAWNS);

  it('--run ID gives a run\'s streams; a job that never ran has no attempts; --json keeps every run in id order', () => {
    const detail = runSim(['status', '--run', '5', '--store', store]);
    expect(detail.status, detail.stderr).toBe(0);
    const lines = detail.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^run 5  running  seed 5  created \S+  0\/2 streams done$/);
    expect(lines[1]).toMatch(/^stream +job +worker +since +round +rounds\/s +tries$/);
    expect(lines).toHaveLength(3 + 2);
    expect(lines[3]).toMatch(/^warmup +queued +\d+s ago +-$/);
    expect(lines[4]).toMatch(/^control +waiting +-$/);
    const runs = JSON.parse(runSim(['status', '--json', '--store', store]).stdout) as Array<{ runId: number; live: boolean; streams: Array<{ stream: string; state: string; attempts: number }> }>;
    expect(runs.map((r) => [r.runId, r.live])).toEqual([[1, false], [2, false], [3, false], [4, true], [5, true]]);
    expect(runs[4].streams).toMatchObject([{ stream: 'warmup', state: 'queued', attempts: 0 }, { stream: 'control', state: 'waiting', attempts: 0 }]);
    const one = JSON.parse(runSim(['status', '--run', '2', '--json', '--store', store]).stdout) as { runId: number };
    expect(one.runId).toBe(2);
  }, SPAWNS);

  it('--run with a run the store does not hold, or not a run id, is one line', () => {
    const missing = runSim(['status', '--run', '99', '--store', store]);
    expect(missing.status).toBe(1);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toMatch(/no run with id 99 \(see `sim status`\)/);
    expect(missing.stderr).not.toContain('secret');
    const bad = runSim(['status', '--run', 'x', '--store', store]);
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim()).toBe('sim: --run: "x" is not a run id (see `sim status`)');
  }, SPAWNS);

  it('sim runs lists the same store in one line per run, the interrupted run at its round 12', () => {
    const result = runSim(['runs', '--store', store]);
    expect(result.status, result.stderr).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2 + 5);
    for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(80);
    expect(lines[2]).toMatch(/^ *1 +1 +interrupted +12 \(treat\S*… /);
    expect(lines[3]).toMatch(/^ *2 +2 +finished +30 /);
  }, SPAWNS);
});
