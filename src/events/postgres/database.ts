import { Kysely, Migrator, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { migrationProvider, migrations } from '../../../migrations/index.js';
import { DatabaseError } from '../../errors.js';
import type { Database } from '../schema.js';

// 64-bit integers (positions, counts) and numerics (averages) come back as numbers, not strings.
// Positions stay far below 2^53.
pg.types.setTypeParser(20, (v: string) => Number(v));
pg.types.setTypeParser(1700, (v: string) => Number(v));

export interface OpenPostgres {
  pool: pg.Pool;
  db: Kysely<Database>;
}

/**
 * Connects to a PostgreSQL database, refuses one written by a newer sim, and migrates it (kysely's
 * Migrator runs the pending migrations in one transaction, under its lock). With `mustExist`, a
 * database holding no sim schema yet is left untouched and null returned. `display` names the store
 * in errors (the URL with its password masked); the URL itself is never printed.
 */
export async function openPostgres(url: string, display: string, options: { mustExist: boolean }): Promise<OpenPostgres | null> {
  const pool = new pg.Pool({ connectionString: url, max: 4, connectionTimeoutMillis: 10_000 });
  // An idle client that loses its server must not crash the process; the next query reports it.
  pool.on('error', () => undefined);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  try {
    try {
      await sql`select 1`.execute(db);
    } catch (error) {
      throw describePostgresError(display, error, 'cannot connect');
    }
    const hasSchema = await schemaPresent(db);
    if (!hasSchema && options.mustExist) {
      await db.destroy();
      return null;
    }
    const applied = hasSchema ? await refuseNewerSchema(db, display) : new Set<string>();
    // An up-to-date store is opened without the Migrator (its lock and reads are a few round trips
    // that `sim runs` and `sim status` would pay at every start).
    if (!Object.keys(migrations).every((name) => applied.has(name))) {
      const { error, results } = await new Migrator({ db, provider: migrationProvider }).migrateToLatest();
      if (error) {
        const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
        throw describePostgresError(display, error, `migration ${failed} failed`);
      }
    }
  } catch (error) {
    await db.destroy().catch(() => undefined);
    throw error;
  }
  return { pool, db };
}

async function schemaPresent(db: Kysely<Database>): Promise<boolean> {
  const row = await sql<{ present: boolean }>`select to_regclass('kysely_migration') is not null as present`.execute(db);
  return row.rows[0]?.present === true;
}

/** The migrations a store holding sim's schema has applied; refuses one applied by a newer sim. */
async function refuseNewerSchema(db: Kysely<Database>, display: string): Promise<Set<string>> {
  const applied = await sql<{ name: string }>`select name from kysely_migration`.execute(db);
  const unknown = applied.rows.map((r) => r.name).filter((name) => !(name in migrations));
  if (unknown.length > 0) {
    throw new DatabaseError(`${display}: written by a newer version of sim (schema migration ${unknown.join(', ')} is unknown here); upgrade sim to open it`);
  }
  return new Set(applied.rows.map((r) => r.name));
}

/** Turns a PostgreSQL or connection failure into a one-line error naming the store (password masked). */
export function describePostgresError(display: string, error: unknown, doing: string): DatabaseError {
  if (error instanceof DatabaseError) return error;
  const e = error as { code?: string; message?: string };
  const code = e.code ?? '';
  const message = (e.message ?? String(error)).split('\n')[0];
  switch (code) {
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'EHOSTUNREACH':
    case 'ETIMEDOUT':
    case 'EAI_AGAIN':
      return new DatabaseError(`${display}: ${doing}: the server cannot be reached (${code}); check the host and port, and that PostgreSQL is running`);
    case '28P01':
    case '28000':
      return new DatabaseError(`${display}: ${doing}: the server refused the user name or password (${code}); check the credentials in the URL`);
    case '3D000':
      return new DatabaseError(`${display}: ${doing}: the database does not exist (${code}); create it first (createdb), or name another in the URL`);
    case '53100':
      return new DatabaseError(`${display}: ${doing}: the server's disk is full (${code}); the last transaction was rolled back and nothing earlier is lost`);
    case '42501':
      return new DatabaseError(`${display}: ${doing}: permission denied (${code}); the user needs to create tables and write in this database`);
    default:
      if (/timeout/i.test(message)) return new DatabaseError(`${display}: ${doing}: the server did not answer in time; check the host and port`);
      return new DatabaseError(`${display}: ${doing}: ${message}${code ? ` (${code})` : ''}`);
  }
}
