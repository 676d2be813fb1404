import { accessSync, constants, existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { RunNotFoundError, UsageError } from '../errors.js';
import { describeLocation, directoryStore, parseStoreLocation, type StoreLocation } from '../events/open-store.js';
import { EventStore } from '../sim/store.js';

/**
 * `--store URL` and SIM_STORE: which store a command reads and writes. A database file path or
 * `sqlite:PATH` is SQLite; `postgres://user:pass@host:port/db` is PostgreSQL. Without either, the
 * store is OUT/sim.db as it always was; `--out DIR` still says where logs, exports and reports go.
 */

export interface StoreFlags {
  out: string;
  store?: string;
}

/** The store named by --store, else SIM_STORE, else the output directory's sim.db. */
export function storeLocation(flags: StoreFlags, env: NodeJS.ProcessEnv = process.env): StoreLocation {
  if (flags.store !== undefined) return parseStoreLocation(flags.store, '--store');
  const fromEnv = env.SIM_STORE;
  if (fromEnv !== undefined && fromEnv.trim() !== '') return parseStoreLocation(fromEnv, 'SIM_STORE');
  return directoryStore(flags.out);
}

/** The PostgreSQL store the distributed commands (submit, worker, status) need, or a UsageError naming the SQLite one given. */
export function postgresOnly(flags: StoreFlags, command: string): StoreLocation & { backend: 'postgres' } {
  const location = storeLocation(flags);
  if (location.backend !== 'postgres') {
    throw new UsageError(`${command}: the store ${describeLocation(location)} is SQLite; jobs are shared through PostgreSQL: give --store postgres://user:pass@host:port/db (or SIM_STORE)`);
  }
  return location;
}

/** How the store is named in messages (a URL's password masked). */
export function storeName(flags: StoreFlags): string {
  return describeLocation(storeLocation(flags));
}

/**
 * The store as a command that writes names it in its first line: its location (a URL's password
 * masked), and "(from SIM_STORE)" when the environment chose it, not a flag of the command line.
 */
export function storeLine(flags: StoreFlags, env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = flags.store === undefined && env.SIM_STORE !== undefined && env.SIM_STORE.trim() !== '';
  return `store ${describeLocation(storeLocation(flags, env))}${fromEnv ? ' (from SIM_STORE)' : ''}`;
}

/**
 * `--out DIR` typed on the command line while SIM_STORE (from the environment) names another store
 * and no --store says which one is meant: refused, because `--out` alone has always meant DIR/sim.db
 * and a store chosen silently by the environment is the wrong one more often than not. Giving
 * `--store` (DIR/ or "$SIM_STORE") settles it; a SIM_STORE naming DIR/sim.db itself is no conflict.
 */
export function refuseOutWithEnvStore(out: string, flag = '--out', env: NodeJS.ProcessEnv = process.env): void {
  const fromEnv = env.SIM_STORE;
  if (fromEnv === undefined || fromEnv.trim() === '') return;
  const envLocation = parseStoreLocation(fromEnv, 'SIM_STORE');
  const outLocation = directoryStore(out);
  if (envLocation.backend === 'sqlite' && outLocation.backend === 'sqlite' && resolve(envLocation.file) === resolve(outLocation.file)) return;
  const folder = out.endsWith('/') ? out : `${out}/`;
  throw new UsageError(
    `${flag} ${out} and SIM_STORE (${describeLocation(envLocation)}) name different stores; say which: --store ${folder} or --store "$SIM_STORE" (${out} then holds logs and exports)`,
    { flag },
  );
}

/**
 * What a command does with its store: `read` writes nothing to it (runs, report, export, show, plan,
 * project without --rebuild, copy's source) and reads one on a read-only mount
 * (src/events/sqlite/database.ts says how); `write` first refuses, as a usage error, a SQLite store
 * whose file or folder cannot be written.
 */
export type StoreUse = 'read' | 'write';

/** Opens the store, creating it (and its schema) when it does not exist yet. */
export function openStoreFor(flags: StoreFlags): Promise<EventStore> {
  checkStoreWritable(flags);
  return EventStore.at(storeLocation(flags));
}

/** Opens a store that already exists, or returns null, creating nothing. */
export function openExistingStoreFor(flags: StoreFlags, use: StoreUse = 'write'): Promise<EventStore | null> {
  const location = storeLocation(flags);
  if (use === 'read') return EventStore.existing(location, { readOnly: true });
  if (location.backend === 'sqlite' && existsSync(location.file)) checkStoreWritable(flags);
  return EventStore.existing(location);
}

/** Why a path cannot be written, as the user reads it (the codes of src/write-whole.ts). */
const CANNOT_WRITE: Record<string, string> = { EACCES: 'permission denied', EPERM: 'not permitted', EROFS: 'read-only file system', ENOTDIR: 'a file is in the way of a folder' };

/**
 * A SQLite store to be written: its file (when it exists) and the folder holding it (or the nearest
 * one above that exists, where it would be created) must be writable. Refused, before anything is
 * opened, in one line naming what the user gave (--store, SIM_STORE or --out) and why: a read-only
 * file system says so. Exit 2, as any path given that cannot be written.
 */
export function checkStoreWritable(flags: StoreFlags, env: NodeJS.ProcessEnv = process.env): void {
  const fromEnv = env.SIM_STORE?.trim() ? env.SIM_STORE.trim() : undefined;
  const [flag, given] = flags.store !== undefined ? ['--store', flags.store] : fromEnv !== undefined ? ['SIM_STORE', fromEnv] : ['--out', flags.out];
  checkLocationWritable(storeLocation(flags, env), flag, given);
}

/** checkStoreWritable for a store named by `flag` as `given` (`sim copy --to`). */
export function checkLocationWritable(location: StoreLocation, flag: string, given: string): void {
  if (location.backend !== 'sqlite') return;
  let at = dirname(location.file);
  while (!existsSync(at) && dirname(at) !== at) at = dirname(at);
  for (const path of existsSync(location.file) ? [location.file, at] : [at]) {
    try {
      accessSync(path, constants.W_OK);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'EACCES';
      // The nearest existing folder is named when it is not the store's own.
      const where = path === location.file || path === dirname(location.file) ? '' : ` at ${path}`;
      throw new UsageError(`${flag} ${given}: the store ${location.file} cannot be written (${code}: ${CANNOT_WRITE[code] ?? 'not writable'}${where})`, { flag, file: location.file });
    }
  }
}

/** Opens the store (--store, SIM_STORE, or OUT/sim.db) that must already hold runs, to `use` it (StoreUse). */
export async function openStoreWithRuns(flags: StoreFlags, use: StoreUse = 'write'): Promise<EventStore> {
  const store = await openExistingStoreFor(flags, use);
  if (!store) {
    if (flags.store === undefined && !process.env.SIM_STORE) {
      throw new RunNotFoundError(`${flags.out}: no sim.db here (run \`sim run --out ${flags.out}\` first, or pass --out)`);
    }
    throw new RunNotFoundError(`${storeName(flags)}: holds no sim store yet (record a run into it with \`sim run --store ...\` first)`);
  }
  return store;
}
