import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kysely, SqliteDialect } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrations } from '../../../migrations/index.js';
import { MIGRATION_NAMES } from '../../../migrations/names.js';
import type { Database } from '../schema.js';
import { openDatabase } from './database.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sim-db-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function appliedMigrations(file: string): Promise<string[]> {
  const { sqlite } = await openDatabase(file);
  const names = sqlite.prepare('select name from kysely_migration order by name').pluck().all() as string[];
  sqlite.close();
  return names;
}

/** kysely over an opened handle (destroying it closes the handle). */
const kyselyOn = (sqlite: import('better-sqlite3').Database) => new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });

describe('a store opened to be read', () => {
  it('is left as it was where it can be written: same bytes, no -wal or -shm beside it', async () => {
    const file = join(dir, 'sim.db');
    const first = kyselyOn((await openDatabase(file)).sqlite);
    await first.insertInto('runs').values({ created_at: 'now', seed: 5, config: '{}', code_version: 't', status: 'finished' }).execute();
    await first.destroy();
    const before = readFileSync(file);
    const read = await openDatabase(file, { readonly: true });
    expect(read.sqlite.prepare('select seed from runs').pluck().all()).toEqual([5]);
    read.sqlite.close();
    read.cleanup?.();
    expect(readdirSync(dir)).toEqual(['sim.db']);
    expect(readFileSync(file).equals(before)).toBe(true);
  });
});

describe('migrations', () => {
  it('are listed by name in migrations/names.ts, which opening a store checks without loading them', () => {
    expect(MIGRATION_NAMES).toEqual(Object.keys(migrations));
    expect([...MIGRATION_NAMES].sort()).toEqual(MIGRATION_NAMES);
  });

  it('run only when one is missing: a file taken back to before the last migration (0005) gets it', async () => {
    const file = join(dir, 'sim.db');
    (await openDatabase(file)).sqlite.close();
    const BetterSqlite3 = (await import('better-sqlite3')).default;
    const recorded = () => {
      const raw = new BetterSqlite3(file, { readonly: true });
      const names = raw.prepare('select name from kysely_migration order by name').pluck().all();
      raw.close();
      return names;
    };
    expect(recorded()).toEqual([...MIGRATION_NAMES]);
    const leaseColumns = () => {
      const raw = new BetterSqlite3(file, { readonly: true });
      const names = raw.prepare('select name from pragma_table_info(?)').pluck().all('run_leases');
      raw.close();
      return names;
    };
    // A store of the sim before 0005: its run_leases has no heartbeat_at, and a lease row in it.
    const raw = new BetterSqlite3(file);
    // 0006 (run_spend, created if it does not exist) and 0007 (an index, likewise) go with it: harmless to run twice.
    raw.exec("delete from kysely_migration where name in ('0005_lease_heartbeat', '0006_run_spend', '0007_fell_back_index'); alter table run_leases drop column heartbeat_at");
    raw.exec("insert into run_leases (run_id, host, pid, acquired_at) values (1, 'h', 1, '2026-01-01T00:00:00Z')");
    raw.close();
    expect(recorded()).toEqual(MIGRATION_NAMES.slice(0, -3));
    expect(leaseColumns()).not.toContain('heartbeat_at');
    (await openDatabase(file)).sqlite.close();
    expect(recorded()).toEqual([...MIGRATION_NAMES]);
    expect(leaseColumns()).toEqual(['run_id', 'host', 'pid', 'acquired_at', 'heartbeat_at']);
  });

  it('create every table on an empty file, in WAL mode', async () => {
    const file = join(dir, 'sim.db');
    const { sqlite } = await openDatabase(file);
    const tables = (sqlite.prepare("select name from sqlite_master where type = 'table'").pluck().all() as string[]).sort();
    expect(tables).toEqual(expect.arrayContaining(['events', 'llm_cache', 'runs', 'streams']));
    expect(sqlite.pragma('journal_mode', { simple: true })).toBe('wal');
    sqlite.close();
    expect(await appliedMigrations(file)).toEqual(Object.keys(migrations).sort());
  });

  it('give a new file 16 KB pages, and leave an existing file at its own page size with its rows', async () => {
    const fresh = join(dir, 'fresh.db');
    const opened = await openDatabase(fresh);
    expect(opened.sqlite.pragma('page_size', { simple: true })).toBe(16384);
    opened.sqlite.close();
    // A store written before (4 KB pages, SQLite's default, in WAL mode with a run in it).
    const old = join(dir, 'old.db');
    const BetterSqlite3 = (await import('better-sqlite3')).default;
    const raw = new BetterSqlite3(old);
    raw.pragma('page_size = 4096');
    raw.pragma('journal_mode = WAL');
    raw.close();
    const before = kyselyOn((await openDatabase(old)).sqlite);
    await before.insertInto('runs').values({ created_at: 'then', seed: 3, config: '{}', code_version: 't', status: 'finished' }).execute();
    await before.destroy();
    const reopened = await openDatabase(old);
    expect(reopened.sqlite.pragma('page_size', { simple: true })).toBe(4096);
    expect(reopened.sqlite.prepare('select seed from runs').pluck().all()).toEqual([3]);
    reopened.sqlite.close();
  });

  it('leave an up-to-date file as it is and keep its rows', async () => {
    const file = join(dir, 'sim.db');
    const first = kyselyOn((await openDatabase(file)).sqlite);
    await first.insertInto('runs').values({ created_at: 'now', seed: 1, config: '{}', code_version: 't', status: 'finished' }).execute();
    await first.destroy();
    const second = kyselyOn((await openDatabase(file)).sqlite);
    const runs = await second.selectFrom('runs').selectAll().execute();
    expect(runs).toHaveLength(1);
    await second.destroy();
    expect(await appliedMigrations(file)).toEqual(Object.keys(migrations).sort());
  });

  it('re-key proj_agent_rounds round first (0004) keeping every row of a store written before it', async () => {
    const fixture = new URL('../../../test/fixtures/v0.2-store/sim.db', import.meta.url);
    const file = join(dir, 'sim.db');
    copyFileSync(fixture, file);
    const rowsOf = (db: import('better-sqlite3').Database) =>
      db.prepare('select stream_id, agent_id, round, active, likelihood, engagement from proj_agent_rounds order by stream_id, agent_id, round').all();
    const keyOf = (db: import('better-sqlite3').Database) =>
      (db.prepare("select name from pragma_index_info((select name from pragma_index_list('proj_agent_rounds') where origin = 'pk'))").all() as Array<{ name: string }>).map((c) => c.name);
    const BetterSqlite3 = (await import('better-sqlite3')).default;
    const old = new BetterSqlite3(file, { readonly: true });
    const before = rowsOf(old);
    expect(keyOf(old)).toEqual(['stream_id', 'agent_id', 'round']);
    old.close();
    expect(before.length).toBeGreaterThan(100);
    const { sqlite } = await openDatabase(file);
    expect(keyOf(sqlite)).toEqual(['stream_id', 'round', 'agent_id']);
    expect(rowsOf(sqlite)).toEqual(before);
    sqlite.close();
  });

  it('refuse a database written by a newer schema with a clear message', async () => {
    const file = join(dir, 'sim.db');
    const { sqlite } = await openDatabase(file);
    sqlite.prepare("insert into kysely_migration (name, timestamp) values ('9999_from_the_future', 'x')").run();
    sqlite.close();
    await expect(openDatabase(file)).rejects.toThrow(/written by a newer version of sim \(schema migration 9999_from_the_future is unknown here\)/);
  });

  it('open a store written by sim 0.1.0 (before the storage port): it verifies, keeps its fingerprint, takes new runs and stays readable', async () => {
    const fixture = new URL('../../../test/fixtures/v0.2-store/sim.db', import.meta.url);
    const file = join(dir, 'sim.db');
    copyFileSync(fixture, file);
    const before = readFileSync(file);
    const { eventCodec } = await import('../../domain/events.js');
    const { SqliteStore } = await import('./store.js');
    const store = await SqliteStore.open(file, eventCodec);
    try {
      const [run] = await store.listRunRows();
      expect(run).toMatchObject({ id: 1, seed: 1, status: 'finished', codeVersion: '0.1.0' });
      const streams = await store.runStreams(1);
      expect(streams.map((s) => s.name)).toEqual(['control', 'experiment_info_message', 'experiment_soc_message', 'treatment_info_message', 'treatment_soc_message', 'warmup']);
      expect(await store.verifyStreams(streams.map((s) => s.streamId))).toEqual({ streams: 6, events: 787 });
      expect(await store.fingerprint(1)).toBe('4efbff9e381508b86b56c35875a4a05dd2bf1f374a1d356c97d08a10f313f322');
      const next = await store.createRun({ seed: 2, config: {}, codeVersion: 'now', createdAt: 'now' });
      expect(next).toBe(2);
    } finally {
      await store.close();
    }
    expect(await appliedMigrations(file)).toEqual(Object.keys(migrations).sort());
    // The fixture itself is never touched (the test works on a copy).
    expect(readFileSync(fixture).equals(before)).toBe(true);
  });
});
