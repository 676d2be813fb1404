import { resolve } from 'node:path';
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

/** Opens the store, creating it (and its schema) when it does not exist yet. */
export function openStoreFor(flags: StoreFlags): Promise<EventStore> {
  return EventStore.at(storeLocation(flags));
}

/** Opens a store that already exists, or returns null, creating nothing. */
export function openExistingStoreFor(flags: StoreFlags): Promise<EventStore | null> {
  return EventStore.existing(storeLocation(flags));
}

/** Opens the store (--store, SIM_STORE, or OUT/sim.db) that must already hold runs. */
export async function openStoreWithRuns(flags: StoreFlags): Promise<EventStore> {
  const store = await openExistingStoreFor(flags);
  if (!store) {
    if (flags.store === undefined && !process.env.SIM_STORE) {
      throw new RunNotFoundError(`${flags.out}: no sim.db here (run \`sim run --out ${flags.out}\` first, or pass --out)`);
    }
    throw new RunNotFoundError(`${storeName(flags)}: holds no sim store yet (record a run into it with \`sim run --store ...\` first)`);
  }
  return store;
}
