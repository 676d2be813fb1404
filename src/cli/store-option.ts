import type { Command } from 'commander';

/**
 * `--store URL` on every command that opens a store (src/api/store.ts says how it is read: a path or
 * `sqlite:PATH` is SQLite, `postgres://user:pass@host:port/db` is PostgreSQL; default SIM_STORE,
 * else OUT/sim.db).
 */
export const STORE_FLAG = '--store <url>';
export const STORE_HELP = 'the store: a database file, sqlite:PATH or postgres://user:pass@host:port/db (default: $SIM_STORE, else OUT/sim.db)';

/** The commands that open a store (by their words after `sim`); each gets --store beside its --out. */
const STORE_COMMANDS = new Set(['run', 'resume', 'replay', 'project', 'export csv', 'export events', 'show user', 'report', 'plan', 'runs', 'submit', 'sweep', 'worker', 'status']);

/** Adds --store to every command that opens a store (called once, after all commands are registered). */
export function addStoreOptions(program: Command, path: string[] = []): void {
  for (const command of program.commands) {
    const words = [...path, command.name()];
    addStoreOptions(command, words);
    if (STORE_COMMANDS.has(words.join(' ')) && !command.options.some((o) => o.long === '--store')) command.option(STORE_FLAG, STORE_HELP);
  }
}

