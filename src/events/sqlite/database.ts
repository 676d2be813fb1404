import type BetterSqlite3Type from 'better-sqlite3';
import { createRequire } from 'node:module';
import { accessSync, closeSync, constants, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { MIGRATION_NAMES } from '../../../migrations/names.js';
import { DatabaseError, SimError, StoreFullError } from '../../errors.js';

/**
 * The native driver, a CommonJS package, loaded with require: imported as ESM, Node would first
 * load its CommonJS export lexer and parse the package with it (about 10 ms of every start that
 * opens a store).
 */
const BetterSqlite3 = createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3Type;

export const DB_FILE_NAME = 'sim.db';
const SQLITE_HEADER = 'SQLite format 3\u0000';
/** The page size of a database file sim creates. */
export const NEW_FILE_PAGE_SIZE = 16384;

export interface OpenDatabase {
  file: string;
  /**
   * The handle every query goes through (cached prepared statements, synchronous transactions).
   * kysely is loaded only to run pending migrations: a command reading an up-to-date store (`sim
   * runs`) never parses it.
   */
  sqlite: BetterSqlite3Type.Database;
  /** Opened for reading only: nothing is written to the file. */
  readOnly: boolean;
  /** Removes what opening left behind (a read-only store's private copy); called after closing. */
  cleanup?: () => void;
}

export function databaseFile(outDir: string): string {
  return join(outDir, DB_FILE_NAME);
}

/**
 * Opens (creating if needed) the database of an output directory, migrates it, and refuses files
 * that are not SQLite or come from a newer version of sim, without writing to them. With `readonly`
 * (commands that only read) see openForReading.
 */
export async function openDatabase(file: string, options: { readonly?: boolean } = {}): Promise<OpenDatabase> {
  checkIsSqliteOrAbsent(file);
  if (options.readonly) return openForReading(file);
  return openWritable(file);
}

/**
 * A database that exists, opened to be read: nothing is written by reading. Where its file and
 * folder can be written it is opened as always (an older schema is upgraded once, as any command
 * did; closing removes the -wal and -shm files reading made). Otherwise (a read-only mount, another
 * user's store) it is opened read-only: no migration, no change of journal mode. A WAL database
 * whose folder cannot take the -shm file SQLite needs beside it cannot be read in place (the driver
 * cannot open a file `immutable`), nor can an older schema be upgraded there: then it is read from
 * a private copy (the file and its -wal) in the temporary folder, removed on close.
 */
async function openForReading(file: string): Promise<OpenDatabase> {
  if (folderIsWritable(file) && fileIsWritable(file)) return openWritable(file);
  let sqlite: BetterSqlite3Type.Database | null = null;
  try {
    sqlite = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
    // The first read opens the WAL (and its -shm): where that cannot be done, it fails here.
    sqlite.prepare('select count(*) from sqlite_master').get();
  } catch (error) {
    sqlite?.close();
    if (!isCannotOpen(error)) throw describeSqliteError(file, error, 'cannot open');
    return openCopy(file);
  }
  try {
    setReadPragmas(sqlite);
    const applied = appliedMigrations(sqlite, file);
    if (MIGRATION_NAMES.every((name) => applied.has(name))) return { file, sqlite, readOnly: true };
  } catch (error) {
    sqlite.close();
    throw error;
  }
  sqlite.close();
  return openCopy(file);
}

/** The read-only database read from a private copy (see openForReading); messages still name `file`. */
async function openCopy(file: string): Promise<OpenDatabase> {
  const dir = mkdtempSync(join(tmpdir(), 'sim-read-only-'));
  const cleanup = () => {
    process.off('exit', cleanup);
    rmSync(dir, { recursive: true, force: true });
  };
  // A copy left behind by a process that never closed the store goes with the process.
  process.on('exit', cleanup);
  try {
    const copy = join(dir, DB_FILE_NAME);
    copyFileSync(file, copy);
    if (existsSync(`${file}-wal`)) copyFileSync(`${file}-wal`, `${copy}-wal`);
    const opened = await openWritable(copy);
    return { file, sqlite: opened.sqlite, readOnly: true, cleanup };
  } catch (error) {
    cleanup();
    throw describeSqliteError(file, error, 'cannot read it from a copy (its folder cannot be written)');
  }
}

function folderIsWritable(file: string): boolean {
  try {
    accessSync(dirname(file), constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function fileIsWritable(file: string): boolean {
  try {
    accessSync(file, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function isCannotOpen(error: unknown): boolean {
  const code = (error as { code?: string }).code ?? '';
  return code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_IOERR');
}

function setReadPragmas(sqlite: BetterSqlite3Type.Database): void {
  // Projection rows are updated in agent order, all over their B-trees: at 100,000 agents the
  // default 2 MB page cache missed constantly. 64 MB per connection keeps the hot pages.
  sqlite.pragma('cache_size = -65536');
  sqlite.pragma('temp_store = MEMORY');
  sqlite.pragma('busy_timeout = 5000');
}

async function openWritable(file: string): Promise<OpenDatabase> {
  ensureDirectory(dirname(file), file);
  let sqlite: BetterSqlite3Type.Database;
  try {
    sqlite = new BetterSqlite3(file);
  } catch (error) {
    throw describeSqliteError(file, error, 'cannot open');
  }
  try {
    // A new file gets 16 KB pages (SQLite's default is 4 KB): a round's batch (a few hundred KB of
    // event rows appended at the end of their B-trees) then splits a quarter as many pages and
    // writes a quarter as many WAL frames: about 5% less CPU per append (docs/performance.md). Only an
    // empty file takes it, before WAL mode is set: an existing store keeps its page size.
    sqlite.pragma(`page_size = ${NEW_FILE_PAGE_SIZE}`);
    sqlite.pragma('journal_mode = WAL');
    // NORMAL is durable across process crashes in WAL mode (only an OS crash can lose the last commit).
    sqlite.pragma('synchronous = NORMAL');
    // A round's batch at a million agents writes over a GB of WAL; give the space back after each
    // checkpoint instead of keeping the file at its high-water mark.
    sqlite.pragma('journal_size_limit = 67108864');
    setReadPragmas(sqlite);
    sqlite.pragma('foreign_keys = ON');
  } catch (error) {
    sqlite.close();
    throw describeSqliteError(file, error, 'cannot use');
  }

  try {
    const applied = appliedMigrations(sqlite, file);
    if (MIGRATION_NAMES.some((name) => !applied.has(name))) await migrate(sqlite, file);
  } catch (error) {
    sqlite.close();
    throw error;
  }
  return { file, sqlite, readOnly: false };
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
    // mkdir -p on a read-only file system says ENOENT: the nearest existing folder says why.
    let reason = (error as NodeJS.ErrnoException).code ?? String(error);
    let at = dir;
    while (!existsSync(at) && dirname(at) !== at) at = dirname(at);
    try {
      accessSync(at, constants.W_OK);
    } catch (denied) {
      reason = `${(denied as NodeJS.ErrnoException).code ?? reason}${(denied as NodeJS.ErrnoException).code === 'EROFS' ? ': read-only file system' : ''} at ${at}`;
    }
    throw new DatabaseError(`${file}: cannot create its directory ${dir} (${reason})`);
  }
}

/**
 * The migrations applied to the file (kysely's Migrator records them in kysely_migration), read with
 * two plain queries; refuses a file holding one this version does not know (a newer sim wrote it).
 */
function appliedMigrations(sqlite: BetterSqlite3Type.Database, file: string): Set<string> {
  let names: string[];
  try {
    const recorded = sqlite.prepare("select 1 from sqlite_master where type = 'table' and name = 'kysely_migration'").get() !== undefined;
    names = recorded ? (sqlite.prepare('select name from kysely_migration').pluck().all() as string[]) : [];
  } catch (error) {
    throw describeSqliteError(file, error, 'cannot read its schema version');
  }
  const unknown = names.filter((name) => !MIGRATION_NAMES.includes(name));
  if (unknown.length > 0) {
    throw new DatabaseError(`${file}: written by a newer version of sim (schema migration ${unknown.join(', ')} is unknown here); upgrade sim to open it`);
  }
  return new Set(names);
}

/** Runs the pending migrations with kysely's Migrator, in one transaction (SQLite's DDL is transactional). */
async function migrate(sqlite: BetterSqlite3Type.Database, file: string): Promise<void> {
  const { Kysely, Migrator, SqliteAdapter, SqliteDialect } = await import('kysely');
  const { migrationProvider } = await import('../../../migrations/index.js');
  class TransactionalDdlAdapter extends SqliteAdapter {
    override get supportsTransactionalDdl(): boolean {
      return true;
    }
  }
  class MigratingSqliteDialect extends SqliteDialect {
    override createAdapter(): TransactionalDdlAdapter {
      return new TransactionalDdlAdapter();
    }
  }
  // Not destroyed after: that would close the handle, which the store goes on using.
  const db = new Kysely<unknown>({ dialect: new MigratingSqliteDialect({ database: sqlite }) });
  const { error, results } = await new Migrator({ db, provider: migrationProvider }).migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw describeSqliteError(file, error, `migration ${failed} failed`);
  }
}

/** Turns a SQLite failure into a one-line error naming the file and what to do about it. */
export function describeSqliteError(file: string, error: unknown, doing: string): SimError {
  if (error instanceof SimError) return error;
  const code = (error as { code?: string }).code ?? '';
  const message = error instanceof Error ? error.message : String(error);
  switch (code) {
    case 'SQLITE_NOTADB':
    case 'SQLITE_CORRUPT':
      return new DatabaseError(`${file}: ${doing}: the file is corrupt or not a sim database (${code})`);
    case 'SQLITE_FULL':
      return new StoreFullError(`${file}: ${doing}: no space left on the disk (ENOSPC, SQLITE_FULL); the transaction in progress was rolled back, nothing committed before it is lost`);
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
