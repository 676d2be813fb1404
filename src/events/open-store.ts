import { existsSync, statSync } from 'node:fs';
import { join, sep } from 'node:path';
import { DatabaseError, UsageError } from '../errors.js';
import type { EventCodec, NewEvent, Store } from './port.js';
import { SqliteStore } from './sqlite/store.js';

export const DB_FILE_NAME = 'sim.db';

/** Where a store is: a SQLite file, or a PostgreSQL database named by URL. */
export type StoreLocation = { backend: 'sqlite'; file: string } | { backend: 'postgres'; url: string; display: string };

/** The store of an output directory: DIR/sim.db. */
export function directoryStore(outDir: string): StoreLocation {
  return { backend: 'sqlite', file: join(outDir, DB_FILE_NAME) };
}

/** A URL with its password replaced by ***, for messages. */
export function maskPassword(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@]*@/i, '$1***@');
}

/**
 * Reads `--store` / SIM_STORE: a path (`results/sim.db`, or a folder standing for its sim.db: one
 * that exists or a path ending in `/`) or `sqlite:PATH` is SQLite;
 * `postgres://user:pass@host:port/db` (or postgresql://) is PostgreSQL. `source` names the flag or
 * variable in errors.
 */
export function parseStoreLocation(text: string, source = '--store'): StoreLocation {
  const value = text.trim();
  if (value === '') throw new UsageError(`${source}: empty; give a database file path, sqlite:PATH or postgres://user:pass@host:port/db`);
  if (/^postgres(ql)?:/i.test(value)) {
    const display = maskPassword(value);
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new UsageError(`${source}: "${display}" is not a valid URL (expected postgres://user:pass@host:port/db)`);
    }
    if (!url.hostname) throw new UsageError(`${source}: "${display}" names no host (expected postgres://user:pass@host:port/db)`);
    if (url.pathname.replace(/^\//, '') === '') throw new UsageError(`${source}: "${display}" names no database (expected postgres://user:pass@host:port/db)`);
    return { backend: 'postgres', url: value, display };
  }
  if (/^sqlite:/i.test(value)) {
    const file = value.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (file === '') throw new UsageError(`${source}: "${value}" names no file (expected sqlite:PATH)`);
    return sqlitePath(file);
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    throw new UsageError(`${source}: "${maskPassword(value)}" is not a store this version knows (use a file path, sqlite:PATH or postgres://...)`);
  }
  return sqlitePath(value);
}

/**
 * A SQLite path: a folder (one that exists, or any path ending in a separator, as `--store results/`)
 * stands for its sim.db, so a folder name never becomes a database file; anything else is the file.
 */
function sqlitePath(path: string): StoreLocation {
  const folder = path.endsWith('/') || path.endsWith(sep) || (existsSync(path) && statSync(path).isDirectory());
  return folder ? directoryStore(path) : { backend: 'sqlite', file: path };
}

export function describeLocation(location: StoreLocation): string {
  return location.backend === 'sqlite' ? location.file : location.display;
}

export interface OpenOptions {
  /** SQLite: the write lock shared by this process's threads (see StoreHandoff). */
  writeLock?: SharedArrayBuffer;
  /** Refuse (return null) instead of creating a store that does not exist yet. */
  mustExist?: boolean;
  /**
   * Only read (implies mustExist): SQLite opens the file read-only, writing nothing (a read-only
   * mount can be read; src/events/sqlite/database.ts says how). PostgreSQL opens as usual.
   */
  readOnly?: boolean;
}

/** Opens (creating and migrating when needed) the store at `location`, or null when `mustExist` and absent. */
export async function openStore<E extends NewEvent>(location: StoreLocation, codec: EventCodec<E>, options: OpenOptions = {}): Promise<Store<E> | null> {
  if (location.backend === 'sqlite') {
    if ((options.mustExist || options.readOnly) && !existsSync(location.file)) return null;
    return SqliteStore.open(location.file, codec, { writeLock: options.writeLock, readOnly: options.readOnly });
  }
  const { PostgresStore } = await import('./postgres/store.js');
  return PostgresStore.open(location.url, location.display, codec, { mustExist: (options.mustExist || options.readOnly) ?? false });
}

/** Like openStore, for a location that must be usable; never null. */
export async function openStoreOrFail<E extends NewEvent>(location: StoreLocation, codec: EventCodec<E>, options: Omit<OpenOptions, 'mustExist'> = {}): Promise<Store<E>> {
  const store = await openStore(location, codec, options);
  if (!store) throw new DatabaseError(`${describeLocation(location)}: does not exist`);
  return store;
}
