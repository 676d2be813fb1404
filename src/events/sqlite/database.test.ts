import { mkdtempSync, rmSync } from 'node:fs';
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

  it('refuse a database written by a newer schema with a clear message', async () => {
    const file = join(dir, 'sim.db');
    const { db } = await openDatabase(file);
    await sql`insert into kysely_migration (name, timestamp) values ('9999_from_the_future', 'x')`.execute(db);
    await db.destroy();
    await expect(openDatabase(file)).rejects.toThrow(/written by a newer version of sim \(schema migration 9999_from_the_future is unknown here\)/);
  });
});
