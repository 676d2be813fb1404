import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runSim } from './helpers.js';
import { freshPostgresDatabase, postgresForTests, postgresRequired } from './support/store-backends.js';

/**
 * The same run recorded on SQLite (the default) and on PostgreSQL (`--store postgres://...`): same
 * fingerprint, byte-identical exports, and every command that reads a run works on both. Needs a
 * server (SIM_TEST_PG_URL); skipped visibly without one, failed under CI (SIM_REQUIRE_POSTGRES=1).
 */
const scratch = mkdtempSync(join(tmpdir(), 'sim-store-cli-'));
const pg = postgresForTests();
const skip = pg.url || postgresRequired ? null : pg.reason;
if (skip) console.warn(`PostgreSQL CLI tests skipped: ${skip}`);
const drops: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const drop of drops) await drop().catch(() => undefined);
  rmSync(scratch, { recursive: true, force: true });
});

async function database(): Promise<string> {
  if (!pg.url) throw new Error(`SIM_REQUIRE_POSTGRES=1 but ${pg.reason}`);
  const db = await freshPostgresDatabase(pg.url);
  drops.push(db.drop);
  return db.url;
}

const fingerprint = (where: string[]) => (JSON.parse(runSim(['runs', '--json', ...where]).stdout) as Array<Record<string, unknown> & { fingerprint: string; status: string }>)[0];

/** Every file under a folder, by relative path, with its bytes. */
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

describe.skipIf(skip !== null)(`sim on PostgreSQL${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let url = '';
  const sqliteOut = join(scratch, 'sqlite');
  const pgOut = join(scratch, 'pg');

  it('records `sim run --n-users 1000 --seed 3` with exactly the fingerprint SQLite gives, and exports byte-identical CSVs', async () => {
    url = await database();
    const onSqlite = runSim(['run', '--n-users', '1000', '--seed', '3', '--out', sqliteOut], { timeoutMs: 300_000 });
    expect(onSqlite.status, onSqlite.stderr).toBe(0);
    const onPostgres = runSim(['run', '--n-users', '1000', '--seed', '3', '--store', url, '--out', pgOut], { timeoutMs: 300_000 });
    expect(onPostgres.status, onPostgres.stderr).toBe(0);
    // The run log goes under --out whichever store is used; no sim.db appears there.
    expect(existsSync(join(pgOut, 'logs'))).toBe(true);
    expect(existsSync(join(pgOut, 'sim.db'))).toBe(false);
    const a = fingerprint(['--out', sqliteOut]);
    expect(a.status).toBe('finished');
    const pick = (r: Record<string, unknown>) => ({ fingerprint: r.fingerprint, events: r.events, status: r.status, lastRound: r.lastRound, fellBack: r.fellBack, seed: r.seed });
    expect(pick(fingerprint(['--store', url, '--out', pgOut]))).toEqual(pick(a));

    expect(runSim(['export', 'csv', '--out', sqliteOut, '--to', join(scratch, 'csv-sqlite')]).status).toBe(0);
    expect(runSim(['export', 'csv', '--store', url, '--out', pgOut, '--to', join(scratch, 'csv-pg')]).status).toBe(0);
    const left = tree(join(scratch, 'csv-sqlite'));
    const right = tree(join(scratch, 'csv-pg'));
    expect([...right.keys()].sort()).toEqual([...left.keys()].sort());
    expect(left.size).toBeGreaterThan(10);
    for (const [file, bytes] of left) expect(right.get(file)!.equals(bytes), file).toBe(true);
  }, 600_000);

  it('resumes, replays, rebuilds projections, reports and shows a run on PostgreSQL', () => {
    const where = ['--store', url, '--out', pgOut];
    const resumed = runSim(['resume', ...where]);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(/run 1 is already finished/);
    const replay = runSim(['replay', '--seed', '3', ...where], { timeoutMs: 300_000 });
    expect(replay.status, replay.stderr).toBe(0);
    expect(replay.stdout.trim()).toBe(`identical ${fingerprint(where).fingerprint}`);
    const rebuilt = runSim(['project', '--rebuild', ...where], { timeoutMs: 300_000 });
    expect(rebuilt.status, rebuilt.stderr).toBe(0);
    expect(rebuilt.stdout).toMatch(/hash chains intact in 6 streams[\s\S]*projections rebuilt from \d+ events/);
    // The rebuilt projections give the same exports.
    expect(runSim(['export', 'csv', ...where, '--to', join(scratch, 'csv-pg-rebuilt')]).status).toBe(0);
    const before = tree(join(scratch, 'csv-pg'));
    for (const [file, bytes] of tree(join(scratch, 'csv-pg-rebuilt'))) expect(before.get(file)!.equals(bytes), file).toBe(true);
    const report = runSim(['report', ...where], { timeoutMs: 300_000 });
    expect(report.status, report.stderr).toBe(0);
    expect(existsSync(join(pgOut, 'report', 'run-1', 'report.json'))).toBe(true);
    // A user of the run: the first row of the exported personas.
    const user = readFileSync(join(scratch, 'csv-pg', 'control', 'control_personas.csv'), 'utf8').split('\n')[1].split(',')[0];
    const show = runSim(['show', 'user', user, ...where]);
    expect(show.status, show.stderr).toBe(0);
    expect(show.stdout).toMatch(/likelihood over time/);
  }, 600_000);

  it('reads the store from SIM_STORE when --store is not given', () => {
    const runs = runSim(['runs', '--json'], { env: { SIM_STORE: url }, cwd: scratch });
    expect(runs.status, runs.stderr).toBe(0);
    expect(JSON.parse(runs.stdout)).toHaveLength(1);
    // --out typed beside it would name another store: refused (test/store-naming.test.ts)
    expect(runSim(['runs', '--json', '--out', join(scratch, 'elsewhere')], { env: { SIM_STORE: url } }).status).toBe(2);
  });

  it('says in one line, with the password masked, when the URL is bad, the server unreachable, the password refused or the schema newer; nothing is written', async () => {
    const server = new URL(pg.url!);
    const withPassword = (u: URL, password: string) => {
      const copy = new URL(u.toString());
      copy.password = password;
      return copy.toString();
    };
    const out = join(scratch, 'refused');
    const cases: Array<[string, RegExp, number]> = [
      [withPassword(new URL(url), 'wrong-secret'), /the server refused the user name or password \(28P01\)/, 1],
      [`postgres://sim:wrong-secret@127.0.0.1:1/${server.pathname.slice(1)}`, /the server cannot be reached \(ECONNREFUSED\)/, 1],
      ['postgres://sim:wrong-secret@/nodb', /--store: "postgres:\/\/sim:\*\*\*@\/nodb" is not a valid URL|names no host/, 2],
      ['mysql://sim:wrong-secret@localhost/db', /is not a store this version knows/, 2],
    ];
    for (const [store, message, code] of cases) {
      const r = runSim(['run', '--n-users', '20', '--store', store, '--out', out]);
      expect(r.status, r.stderr).toBe(code);
      expect(r.stderr).toMatch(message);
      // One line (besides the notice that no API key means the offline model).
      expect(r.stderr.trim().split('\n').filter((l) => !/offline persona model/.test(l))).toHaveLength(1);
      expect(r.stderr + r.stdout).not.toContain('wrong-secret');
      expect(existsSync(out)).toBe(false);
    }
    const missing = new URL(url);
    missing.pathname = '/sim_no_such_database';
    const r = runSim(['runs', '--store', missing.toString(), '--out', out]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/sim_no_such_database: cannot connect: the database does not exist \(3D000\)/);

    const newer = await database();
    const pgModule = (await import('pg')).default;
    expect(runSim(['runs', '--store', newer, '--out', out]).status).toBe(0);
    // `runs` on an empty database creates nothing; a run does: make the schema, then mark it newer.
    expect(runSim(['run', '--n-users', '20', '--store', newer, '--out', join(scratch, 'newer'), '--warmup-only']).status).toBe(0);
    const client = new pgModule.Client({ connectionString: newer });
    await client.connect();
    await client.query("insert into kysely_migration (name, timestamp) values ('9999_from_the_future', 'x')");
    const before = (await client.query('select count(*)::int as n from events')).rows[0].n as number;
    const refused = runSim(['run', '--n-users', '20', '--store', newer, '--out', join(scratch, 'newer')]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/written by a newer version of sim \(schema migration 9999_from_the_future is unknown here\); upgrade sim to open it/);
    expect((await client.query('select count(*)::int as n from events')).rows[0].n).toBe(before);
    await client.end();
  }, 300_000);
});
