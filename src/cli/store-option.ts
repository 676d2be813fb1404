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

/**
 * The commands whose --out names their store (OUT/sim.db) when no --store is given; the
 * PostgreSQL-only ones (submit, sweep, worker, status) take --out for logs and exports only.
 */
const OUT_NAMES_STORE = new Set(['run', 'resume', 'replay', 'project', 'export csv', 'export events', 'show user', 'report', 'plan', 'runs']);

/** A command's words after `sim` (`export csv`). */
function wordsOf(command: Command): string[] {
  const words: string[] = [];
  for (let c: Command | null = command; c?.parent; c = c.parent) words.unshift(c.name());
  return words;
}

/**
 * Before any command runs: `--out DIR` typed together with a SIM_STORE from the environment, and no
 * --store, is refused (src/api/store.ts refuseOutWithEnvStore says why) on every command whose --out
 * names its store.
 */
export function checkOutAgainstEnvStore(program: Command): void {
  program.hook('preAction', async (_program, command) => {
    if (!OUT_NAMES_STORE.has(wordsOf(command).join(' '))) return;
    const opts = command.opts<{ out?: string; output_dir?: string; store?: string }>();
    if (opts.store !== undefined || !process.env.SIM_STORE?.trim()) return;
    // Loaded only here: `sim --help` does not load the store.
    const { refuseOutWithEnvStore } = await import('../api/store.js');
    for (const [key, flag] of [['out', '--out'], ['output_dir', '--output_dir']] as const) {
      const value = opts[key];
      if (value !== undefined && command.getOptionValueSource(key) === 'cli') refuseOutWithEnvStore(value, flag);
    }
  });
}

/** Adds --store to every command that opens a store (called once, after all commands are registered). */
export function addStoreOptions(program: Command, path: string[] = []): void {
  for (const command of program.commands) {
    const words = [...path, command.name()];
    addStoreOptions(command, words);
    if (STORE_COMMANDS.has(words.join(' ')) && !command.options.some((o) => o.long === '--store')) command.option(STORE_FLAG, STORE_HELP);
  }
}

