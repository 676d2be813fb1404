import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runSim } from './helpers.js';
import { freshPostgresDatabase, postgresForTests, postgresRequired } from './support/store-backends.js';
import { writeUsersDir } from './support/users-files.js';

/**
 * Which store a command uses is never a surprise (issue 27): a command that writes names its store
 * (and says when SIM_STORE chose it) in its first line about the run, `--out DIR` typed next to a
 * SIM_STORE from the environment is refused, and a folder given as a store (`DIR/`, or a folder that
 * exists) means DIR/sim.db, never a database file named like the folder.
 */
const scratch = mkdtempSync(join(tmpdir(), 'sim-store-naming-'));
const users = writeUsersDir(join(scratch, 'users'), 60);
const runArgs = ['--users-dir', users, '--n-users', '40', '--seed', '4', '--conditions', 'control'];
const noEnvStore = { SIM_STORE: '' };
const SPAWNS = 300_000;
const pg = postgresForTests();
const drops: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const drop of drops) await drop().catch(() => undefined);
  rmSync(scratch, { recursive: true, force: true });
});

/** stderr's lines without the notices about the configuration (no API key: the offline model). */
const ownLines = (stderr: string) => stderr.split('\n').filter((l) => l !== '' && !/^sim: no OpenAI API key found/.test(l));

describe('--out with a SIM_STORE from the environment', () => {
  it('is refused in one line naming both (the password masked), and nothing is written', () => {
    const out = join(scratch, 'refused');
    for (const [command, extra] of [
      ['run', runArgs],
      ['runs', []],
      ['report', []],
    ] as const) {
      const result = runSim([command, ...extra, '--out', out], { env: { SIM_STORE: 'postgres://sim:top-secret@db.example:5432/sim' } });
      expect(result.status, result.stderr).toBe(2);
      expect(ownLines(result.stderr)).toEqual([
        `sim: --out ${out} and SIM_STORE (postgres://sim:***@db.example:5432/sim) name different stores; say which: --store ${out}/ or --store "$SIM_STORE" (${out} then holds logs and exports)`,
      ]);
      expect(result.stderr).not.toContain('top-secret');
      expect(existsSync(out)).toBe(false);
    }
  }, SPAWNS);

  it('is refused for a SQLite SIM_STORE elsewhere too, and accepted when SIM_STORE is DIR/sim.db itself or --store says which', () => {
    const out = join(scratch, 'either');
    const elsewhere = join(scratch, 'elsewhere.db');
    const refused = runSim(['run', ...runArgs, '--out', out], { env: { SIM_STORE: elsewhere } });
    expect(refused.status).toBe(2);
    expect(existsSync(out) || existsSync(elsewhere)).toBe(false);
    const same = runSim(['run', ...runArgs, '--out', out], { env: { SIM_STORE: join(out, 'sim.db') } });
    expect(same.status, same.stderr).toBe(0);
    expect(ownLines(same.stderr)[0]).toBe(`sim: store ${join(out, 'sim.db')} (from SIM_STORE)`);
    const chosen = runSim(['run', ...runArgs, '--out', out, '--store', `${out}/`], { env: { SIM_STORE: elsewhere } });
    expect(chosen.status, chosen.stderr).toBe(0);
    expect(ownLines(chosen.stderr)[0]).toBe(`sim: store ${join(out, 'sim.db')}`);
    expect(existsSync(elsewhere)).toBe(false);
  }, SPAWNS);
});

describe('a command that writes', () => {
  const out = join(scratch, 'named');
  const db = join(out, 'sim.db');

  it('names its store first: run, resume, replay, project, copy', () => {
    const run = runSim(['run', ...runArgs, '--out', out], { env: noEnvStore });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr.split('\n')[0]).toBe(`sim: store ${db}`); // before the notice about the API key too

    const resume = runSim(['resume', '--out', out], { env: noEnvStore });
    expect(resume.status, resume.stderr).toBe(0); // already finished: nothing written, nothing to name
    expect(resume.stderr).toBe('');

    const replay = runSim(['replay', '--seed', '4', '--out', out], { env: noEnvStore });
    expect(replay.status, replay.stderr).toBe(0);
    expect(replay.stderr.split('\n')[0]).toBe(`sim: store ${db}`);
    const rerun = runSim(['replay', '--seed', '5', '--new-run', '--out', out], { env: noEnvStore });
    expect(rerun.status, rerun.stderr).toBe(0);
    expect(rerun.stderr.split('\n')[0]).toBe(`sim: store ${db}`);

    const project = runSim(['project', '--rebuild', '--out', out], { env: noEnvStore });
    expect(project.status, project.stderr).toBe(0);
    expect(project.stderr).toBe(`sim: store ${db}\n`);

    const copy = runSim(['copy', '--from', out, '--to', join(scratch, 'copied') + '/'], { env: noEnvStore });
    expect(copy.status, copy.stderr).toBe(0);
    expect(copy.stderr).toBe(`sim: copying from store ${db} to store ${join(scratch, 'copied', 'sim.db')}\n`);
  }, SPAWNS);

  it('with SIM_STORE and no --out, says the environment chose the store', () => {
    const store = join(scratch, 'from-env.db');
    const run = runSim(['run', ...runArgs], { env: { SIM_STORE: store }, cwd: scratch });
    expect(run.status, run.stderr).toBe(0);
    expect(ownLines(run.stderr)[0]).toBe(`sim: store ${store} (from SIM_STORE)`);
    expect(statSync(store).isFile()).toBe(true);
  }, SPAWNS);

  it('names a PostgreSQL store with its password masked', async () => {
    if (!pg.url) {
      if (postgresRequired) throw new Error(`SIM_REQUIRE_POSTGRES=1 but ${pg.reason}`);
      console.warn(`store naming: PostgreSQL case skipped: ${pg.reason}`);
      return;
    }
    const database = await freshPostgresDatabase(pg.url);
    drops.push(database.drop);
    const url = new URL(database.url);
    const run = runSim(['run', ...runArgs], { env: { SIM_STORE: database.url }, cwd: scratch });
    expect(run.status, run.stderr).toBe(0);
    const shown = url.password ? database.url.replace(`:${url.password}@`, ':***@') : database.url;
    expect(ownLines(run.stderr)[0]).toBe(`sim: store ${shown} (from SIM_STORE)`);
    if (url.password) expect(run.stderr + run.stdout).not.toContain(url.password);
  }, SPAWNS);
});

describe('a folder given as a store', () => {
  it('`--store DIR/` records into DIR/sim.db, whether DIR exists or not', () => {
    const absent = join(scratch, 'new-folder');
    const run = runSim(['run', ...runArgs, '--store', `${absent}/`, '--out', join(scratch, 'logs-a')], { env: noEnvStore });
    expect(run.status, run.stderr).toBe(0);
    expect(statSync(absent).isDirectory()).toBe(true);
    expect(readdirSync(absent).filter((f) => !f.startsWith('sim.db-'))).toEqual(['sim.db']);
    const existing = join(scratch, 'existing-folder');
    mkdirSync(existing);
    const again = runSim(['run', ...runArgs, '--store', existing, '--out', join(scratch, 'logs-b')], { env: noEnvStore });
    expect(again.status, again.stderr).toBe(0);
    expect(ownLines(again.stderr)[0]).toBe(`sim: store ${join(existing, 'sim.db')}`);
  }, SPAWNS);

  it('`sim copy --to DIR/` creates DIR/sim.db, and the copy lists the same run', () => {
    const from = join(scratch, 'new-folder');
    const to = join(scratch, 'copy-target');
    const copy = runSim(['copy', '--from', `${from}/`, '--to', `${to}/`], { env: noEnvStore });
    expect(copy.status, copy.stderr).toBe(0);
    expect(statSync(to).isDirectory()).toBe(true);
    const list = (store: string) => JSON.parse(runSim(['runs', '--json', '--store', store], { env: noEnvStore, cwd: scratch }).stdout) as Array<{ fingerprint: string }>;
    expect(list(join(to, 'sim.db')).map((r) => r.fingerprint)).toEqual(list(join(from, 'sim.db')).map((r) => r.fingerprint));
  }, SPAWNS);
});
