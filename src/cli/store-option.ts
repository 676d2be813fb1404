import type { Command } from 'commander';
import { describeLocation, directoryStore, parseStoreLocation, type StoreLocation } from '../events/open-store.js';
import { EventStore } from '../sim/store.js';

/**
 * `--store URL` and SIM_STORE: which store a command reads and writes. A database file path or
 * `sqlite:PATH` is SQLite; `postgres://user:pass@host:port/db` is PostgreSQL. Without either, the
 * store is OUT/sim.db as it always was; `--out DIR` still says where logs, exports and reports go.
 */
export const STORE_FLAG = '--store <url>';
export const STORE_HELP = 'the store: a database file, sqlite:PATH or postgres://user:pass@host:port/db (default: $SIM_STORE, else OUT/sim.db)';

/** The commands that open a store (by their words after `sim`); each gets --store beside its --out. */
const STORE_COMMANDS = new Set(['run', 'resume', 'replay', 'project', 'export csv', 'export events', 'show user', 'report', 'plan', 'runs']);

/** Adds --store to every command that opens a store (called once, after all commands are registered). */
export function addStoreOptions(program: Command, path: string[] = []): void {
  for (const command of program.commands) {
    const words = [...path, command.name()];
    addStoreOptions(command, words);
    if (STORE_COMMANDS.has(words.join(' ')) && !command.options.some((o) => o.long === '--store')) command.option(STORE_FLAG, STORE_HELP);
  }
}

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

/** How the store is named in messages (a URL's password masked). */
export function storeName(flags: StoreFlags): string {
  return describeLocation(storeLocation(flags));
}

/** Opens the store, creating it (and its schema) when it does not exist yet. */
export function openStoreFor(flags: StoreFlags): Promise<EventStore> {
  return EventStore.at(storeLocation(flags));
}

/** Opens a store that already exists, or returns null, creating nothing. */
export function openExistingStoreFor(flags: StoreFlags): Promise<EventStore | null> {
  return EventStore.existing(storeLocation(flags));
}
