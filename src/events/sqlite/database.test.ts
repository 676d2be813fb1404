import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrations } from '../../../migrations/index.js';
import { openDatabase } from './database.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sim-db-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function appliedMigrations(file: string): Promise<string[]> {
  const { db } = await openDatabase(file);
  const rows = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(db);
  await db.destroy();
  return rows.rows.map((r) => r.name);
}

describe('migrations', () => {
  it('create every table on an empty file, in WAL mode', async () => {
    const file = join(dir, 'sim.db');
    const { db, sqlite } = await openDatabase(file);
    const tables = (await db.introspection.getTables()).map((t) => t.name).sort();
    expect(tables).toEqual(expect.arrayContaining(['events', 'llm_cache', 'runs', 'streams']));
    expect(sqlite.pragma('journal_mode', { simple: true })).toBe('wal');
    await db.destroy();
    expect(await appliedMigrations(file)).toEqual(Object.keys(migrations).sort());
  });

  it('leave an up-to-date file as it is and keep its rows', async () => {
    const file = join(dir, 'sim.db');
    const first = await openDatabase(file);
    await first.db.insertInto('runs').values({ created_at: 'now', seed: 1, config: '{}', code_version: 't', status: 'finished' }).execute();
    await first.db.destroy();
    const second = await openDatabase(file);
    const runs = await second.db.selectFrom('runs').selectAll().execute();
    expect(runs).toHaveLength(1);
    await second.db.destroy();
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
    const { db, sqlite } = await openDatabase(file);
    expect(keyOf(sqlite)).toEqual(['stream_id', 'round', 'agent_id']);
    expect(rowsOf(sqlite)).toEqual(before);
    await db.destroy();
  });

  it('refuse a database written by a newer schema with a clear message', async () => {
    const file = join(dir, 'sim.db');
    const { db } = await openDatabase(file);
    await sql`insert into kysely_migration (name, timestamp) values ('9999_from_the_future', 'x')`.execute(db);
    await db.destroy();
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
