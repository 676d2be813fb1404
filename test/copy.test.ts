import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStoreWithRuns } from '../src/api/store.js';
import { runSim, runSimAsync } from './helpers.js';
import { startFakeServer, type FakeServer } from './support/fake-openai-server.js';
import { freshPostgresDatabase, postgresForTests, postgresRequired } from './support/store-backends.js';
import { writeUsersDir } from './support/users-files.js';

/**
 * `sim copy` between stores: a finished LLM run (against the local test server) goes SQLite ->
 * PostgreSQL -> SQLite with the same fingerprint, replays on the copy without a request, and exports
 * the same CSVs. Without a PostgreSQL server (SIM_TEST_PG_URL) the round trip goes SQLite -> SQLite
 * -> SQLite and says so; under CI (SIM_REQUIRE_POSTGRES=1) the server is required.
 */
const KEY = 'sk-test-SECRET-copy-0123456789';
const scratch = mkdtempSync(join(tmpdir(), 'sim-copy-'));
const users = writeUsersDir(join(scratch, 'users'), 50);
const pg = postgresForTests();
if (!pg.url && !postgresRequired) console.warn(`sim copy tests: PostgreSQL leg replaced by SQLite: ${pg.reason}`);
let server: FakeServer;
const drops: Array<() => Promise<void>> = [];
beforeAll(async () => {
  server = await startFakeServer({ apiKey: KEY });
});
afterAll(async () => {
  await server.close();
  for (const drop of drops) await drop().catch(() => undefined);
  rmSync(scratch, { recursive: true, force: true });
});

async function middleStore(): Promise<string> {
  if (!pg.url) {
    if (postgresRequired) throw new Error(`SIM_REQUIRE_POSTGRES=1 but ${pg.reason}`);
    return join(scratch, 'middle.db');
  }
  const db = await freshPostgresDatabase(pg.url);
  drops.push(db.drop);
  return db.url;
}

const runsOf = (store: string) => JSON.parse(runSim(['runs', '--json', '--store', store, '--out', scratch]).stdout) as Array<{ id: number; fingerprint: string; status: string; events: number }>;

function tree(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else out.set(relative(dir, path), readFileSync(path));
    }
  };
  walk(dir);
  return out;
}

describe('sim copy', { timeout: 300_000 }, () => {
  const source = join(scratch, 'source');
  const back = join(scratch, 'back.db');
  let middle = '';

  it('round-trips a finished LLM run SQLite -> PostgreSQL -> SQLite with the same fingerprint; a replay of the copy asks the server nothing', async () => {
    const run = await runSimAsync(
      ['run', '--provider', 'openai', '--base-url', server.url, '--users-dir', users, '--n-users', '30', '--seed', '4', '--conditions', 'control,treatment_soc_message', '--num-contents', '5', '--out', source],
      { env: { OPENAI_API_KEY: KEY } },
    );
    expect(run.status, run.stderr).toBe(0);
    const [original] = runsOf(join(source, 'sim.db'));
    expect(original.status).toBe('finished');

    middle = await middleStore();
    const there = runSim(['copy', '--from', source, '--to', middle]);
    expect(there.status, there.stderr).toBe(0);
    expect(there.stdout).toMatch(new RegExp(`copied run 1 \\(3 streams, ${original.events} events\\); fingerprint ${original.fingerprint}`));
    const andBack = runSim(['copy', '--from', middle, '--to', `sqlite:${back}`]);
    expect(andBack.status, andBack.stderr).toBe(0);
    for (const store of [middle, back]) expect(runsOf(store)).toEqual([expect.objectContaining({ id: 1, fingerprint: original.fingerprint, status: 'finished', events: original.events })]);
    // The run's spend goes with it (a cap counts the same total on the copy).
    const spentIn = async (store: string) => {
      const opened = await openStoreWithRuns({ out: scratch, store }, 'read');
      try {
        return await opened.runSpend(1);
      } finally {
        await opened.close();
      }
    };
    const spent = await spentIn(join(source, 'sim.db'));
    expect(spent).toBeGreaterThan(0);
    for (const store of [middle, back]) expect(await spentIn(store)).toBeCloseTo(spent, 9);

    const before = server.requests;
    for (const store of [middle, back]) {
      const replay = await runSimAsync(['replay', '--seed', '4', '--store', store, '--out', scratch]);
      expect(replay.status, replay.stderr).toBe(0);
      expect(replay.stdout).toMatch(new RegExp(`^identical ${original.fingerprint} \\(0 HTTP requests, \\d+ cache hits\\)`));
    }
    expect(server.requests).toBe(before);

    expect(runSim(['export', 'csv', '--out', source, '--to', join(scratch, 'csv-source')]).status).toBe(0);
    expect(runSim(['export', 'csv', '--store', back, '--out', scratch, '--to', join(scratch, 'csv-back')]).status).toBe(0);
    const a = tree(join(scratch, 'csv-source'));
    const b = tree(join(scratch, 'csv-back'));
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    for (const [file, bytes] of a) expect(b.get(file)!.equals(bytes), file).toBe(true);
  });

  it('does nothing when the target already holds the same run, and refuses a different run under the same id', () => {
    const again = runSim(['copy', '--from', source, '--to', middle, '1']);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/run 1 is already there \(same fingerprint\): nothing to do/);

    const other = join(scratch, 'other');
    expect(runSim(['run', '--users-dir', users, '--n-users', '20', '--seed', '8', '--conditions', 'control', '--out', other]).status).toBe(0);
    const before = runsOf(middle);
    const refused = runSim(['copy', '--from', other, '--to', middle]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/already holds a different run 1 \(fingerprint [0-9a-f]{16}, the copy's is [0-9a-f]{16}\)/);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(runsOf(middle)).toEqual(before);
  });

  it('refuses to copy a run whose hash chain is broken, writing nothing', async () => {
    const broken = join(scratch, 'broken');
    expect(runSim(['run', '--users-dir', users, '--n-users', '20', '--seed', '9', '--conditions', 'control', '--out', broken]).status).toBe(0);
    const Database = (await import('better-sqlite3')).default;
    const db = new Database(join(broken, 'sim.db'));
    db.prepare(`update events set payload = '{"likelihood":0}' where position = (select min(position) from events where type = 'VotingIntentionStated')`).run();
    db.close();
    const target = join(scratch, 'target.db');
    const refused = runSim(['copy', '--from', broken, '--to', target]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/is broken at stream position \d+/);
    expect(existsSync(target) ? runsOf(target) : []).toEqual([]);
  });
});
