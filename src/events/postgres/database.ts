import { Kysely, Migrator, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { migrationProvider, migrations } from '../../../migrations/index.js';
import { DatabaseError, SimError, StoreFullError, StoreUnavailableError } from '../../errors.js';
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
  const pool = guardPool(new pg.Pool({ connectionString: url, max: 4, connectionTimeoutMillis: 10_000 }));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: reportingLostConnections(pool, display) }) });
  try {
    try {
      await sql`select 1`.execute(db);
    } catch (error) {
      // Not there to begin with: a setting to check (exit 1), not a server that went away.
      throw describePostgresError(display, error instanceof StoreUnavailableError ? error.cause : error, 'cannot connect');
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

/**
 * A pool whose lost connections never crash the process. The server going away (a restart, a
 * failover) makes every connected client emit 'error': the pool handles it for its idle clients
 * only, and a client checked out at that moment (a transaction in progress, kysely holding one
 * between statements) would throw it as an unhandled event, a stack trace. Here every client gets
 * a handler; the query in flight (or the next one on that client) fails instead, and its caller
 * reports it (`describePostgresError`). Broken clients are not returned to the pool.
 */
export function guardPool(pool: pg.Pool): pg.Pool {
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

/** SQLSTATE classes and codes, and socket errors, meaning the connection to the server is gone. */
const LOST_CODES = new Set(['57P01', '57P02', '57P03', 'ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);
const LOST_MESSAGES = /Connection terminated|not queryable|Connection ended|terminating connection|the database system is (shutting down|starting up|in recovery mode)/i;

/**
 * True when `error` says the connection to the server was lost or cannot be made now (a restart: the
 * server shutting down, starting up, refusing connections meanwhile), rather than a problem with
 * the query or the data.
 */
export function isConnectionLost(error: unknown): boolean {
  if (error instanceof StoreUnavailableError) return true;
  const e = error as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  return LOST_CODES.has(code) || code.startsWith('08') || (typeof e?.message === 'string' && LOST_MESSAGES.test(e.message));
}

/** The one-line error for a lost connection, naming the store (password masked). */
export function connectionLost(display: string, error: unknown): StoreUnavailableError {
  if (error instanceof StoreUnavailableError) return error;
  const e = error as { code?: string; message?: string };
  const why = `${(e.message ?? String(error)).split('\n')[0]}${e.code && !/^E[A-Z]+$/.test(e.code) ? ` (${e.code})` : ''}`;
  return new StoreUnavailableError(`${display}: the connection to the server was lost (${why})`, null, { cause: error });
}

/**
 * The pool as kysely sees it, every lost connection (on connecting or mid-query) turned into a
 * StoreUnavailableError naming the store: whichever query it hits, a run stops with one line and
 * `sim resume` continues it (src/api/run.ts), a worker retries its job (src/api/distributed.ts).
 * Offers what kysely and the job queue use of a pool: connect (a client), query and end.
 */
export function reportingLostConnections(pool: pg.Pool, display: string): pg.Pool {
  const report = (error: unknown): never => {
    throw isConnectionLost(error) ? connectionLost(display, error) : error;
  };
  // One stand-in per client, so kysely knows a client it has seen (it keys its connections by client).
  const standIns = new WeakMap<pg.PoolClient, pg.PoolClient>();
  const standIn = (client: pg.PoolClient): pg.PoolClient => {
    let known = standIns.get(client);
    if (!known) {
      known = reporting(client);
      standIns.set(client, known);
    }
    return known;
  };
  const reporting = (client: pg.PoolClient): pg.PoolClient =>
    new Proxy(client, {
      get(target, key, receiver) {
        if (key === 'query') {
          return (...args: unknown[]) => {
            const result = (target.query as (...a: unknown[]) => unknown)(...args);
            // A cursor (kysely's streamed queries) is returned as it is; its reads fail on their own.
            return result instanceof Promise ? result.catch(report) : result;
          };
        }
        const value = Reflect.get(target, key, receiver) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  const wrapped = {
    connect: async () => standIn(await pool.connect().catch(report)),
    query: (...args: unknown[]) => (pool.query as (...a: unknown[]) => Promise<unknown>)(...args).catch(report),
    end: () => pool.end(),
  };
  return wrapped as unknown as pg.Pool;
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
export function describePostgresError(display: string, error: unknown, doing: string): SimError {
  if (error instanceof SimError) return error;
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
      return new StoreFullError(`${display}: ${doing}: the server's disk is full (${code}); the transaction in progress was rolled back, nothing committed before it is lost`);
    case '42501':
      return new DatabaseError(`${display}: ${doing}: permission denied (${code}); the user needs to create tables and write in this database`);
    default:
      if (/timeout/i.test(message)) return new DatabaseError(`${display}: ${doing}: the server did not answer in time; check the host and port`);
      return new DatabaseError(`${display}: ${doing}: ${message}${code ? ` (${code})` : ''}`);
  }
}
