import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, SqliteAdapter, SqliteDialect, sql, type DialectAdapter } from 'kysely';
import { closeSync, existsSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { migrationProvider, migrations } from '../../../migrations/index.js';
import { DatabaseError } from '../../errors.js';
import type { Database } from '../schema.js';

export const DB_FILE_NAME = 'sim.db';
const SQLITE_HEADER = 'SQLite format 3\u0000';

export interface OpenDatabase {
  file: string;
  /** Raw handle for the hot path (cached prepared statements, synchronous transactions). */
  sqlite: BetterSqlite3.Database;
  /** The same handle through kysely, for migrations, reads and the CLI. */
  db: Kysely<Database>;
}

export function databaseFile(outDir: string): string {
  return join(outDir, DB_FILE_NAME);
}

/** SQLite's DDL is transactional; saying so lets kysely's Migrator run the pending migrations in one transaction. */
class TransactionalDdlAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

class MigratingSqliteDialect extends SqliteDialect {
  override createAdapter(): DialectAdapter {
    return new TransactionalDdlAdapter();
  }
}

/**
 * Opens (creating if needed) the database of an output directory, migrates it, and refuses files
 * that are not SQLite or come from a newer version of sim, without writing to them.
 */
export async function openDatabase(file: string, options: { readonly?: boolean } = {}): Promise<OpenDatabase> {
  checkIsSqliteOrAbsent(file);
  if (!options.readonly) ensureDirectory(dirname(file), file);

  let sqlite: BetterSqlite3.Database;
  try {
    sqlite = new BetterSqlite3(file, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
  } catch (error) {
    throw describeSqliteError(file, error, 'cannot open');
  }
  try {
    if (!options.readonly) {
      sqlite.pragma('journal_mode = WAL');
      // NORMAL is durable across process crashes in WAL mode (only an OS crash can lose the last commit).
      sqlite.pragma('synchronous = NORMAL');
      // A round's batch at a million agents writes over a GB of WAL; give the space back after each
      // checkpoint instead of keeping the file at its high-water mark.
      sqlite.pragma('journal_size_limit = 67108864');
    }
    // Projection rows are updated in agent order, all over their B-trees: at 100,000 agents the
    // default 2 MB page cache missed constantly. 64 MB per connection keeps the hot pages.
    sqlite.pragma('cache_size = -65536');
    sqlite.pragma('temp_store = MEMORY');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 5000');
  } catch (error) {
    sqlite.close();
    throw describeSqliteError(file, error, 'cannot use');
  }

  const db = new Kysely<Database>({ dialect: new MigratingSqliteDialect({ database: sqlite }) });
  try {
    await refuseNewerSchema(db, file);
    if (!options.readonly) await migrate(db, file);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return { file, sqlite, db };
}

function checkIsSqliteOrAbsent(file: string): void {
  if (!existsSync(file)) return;
  const stat = statSync(file);
  if (stat.isDirectory()) throw new DatabaseError(`${file}: is a directory, not a database file`);
  if (stat.size === 0) return;
  const header = Buffer.alloc(16);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, header, 0, 16, 0);
  } finally {
    closeSync(fd);
  }
  if (header.toString('latin1') !== SQLITE_HEADER) {
    throw new DatabaseError(`${file}: not a SQLite database (left untouched); choose another --out directory`);
  }
}

function ensureDirectory(dir: string, file: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new DatabaseError(`${file}: cannot create its directory ${dir} (${reason})`);
  }
}

async function refuseNewerSchema(db: Kysely<Database>, file: string): Promise<void> {
  const tables = await db.introspection.getTables({ withInternalKyselyTables: true });
  if (!tables.some((t) => t.name === 'kysely_migration')) return;
  const applied = await sql<{ name: string }>`select name from kysely_migration`.execute(db);
  const unknown = applied.rows.map((r) => r.name).filter((name) => !(name in migrations));
  if (unknown.length > 0) {
    throw new DatabaseError(
      `${file}: written by a newer version of sim (schema migration ${unknown.join(', ')} is unknown here); upgrade sim to open it`,
    );
  }
}

async function migrate(db: Kysely<Database>, file: string): Promise<void> {
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw describeSqliteError(file, error, `migration ${failed} failed`);
  }
}

/** Turns a SQLite failure into a one-line error naming the file and what to do about it. */
export function describeSqliteError(file: string, error: unknown, doing: string): DatabaseError {
  if (error instanceof DatabaseError) return error;
  const code = (error as { code?: string }).code ?? '';
  const message = error instanceof Error ? error.message : String(error);
  switch (code) {
    case 'SQLITE_NOTADB':
    case 'SQLITE_CORRUPT':
      return new DatabaseError(`${file}: ${doing}: the file is corrupt or not a sim database (${code})`);
    case 'SQLITE_FULL':
      return new DatabaseError(`${file}: ${doing}: the disk is full (SQLITE_FULL); the last transaction was rolled back and nothing earlier is lost`);
    case 'SQLITE_READONLY':
    case 'SQLITE_CANTOPEN':
    case 'SQLITE_PERM':
    case 'SQLITE_IOERR':
      return new DatabaseError(`${file}: ${doing}: ${message} (${code}); check that the directory exists and is writable`);
    case 'SQLITE_BUSY':
    case 'SQLITE_LOCKED':
      return new DatabaseError(`${file}: ${doing}: the database is locked by another process (${code})`);
    default:
      return new DatabaseError(`${file}: ${doing}: ${message}${code ? ` (${code})` : ''}`);
  }
}
