import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { maskPassword, parseStoreLocation } from '../../events/open-store.js';
import { copyRuns, planCopy } from '../../sim/copy.js';
import { EventStore } from '../../sim/store.js';

export function registerCopy(program: Command): void {
  program
    .command('copy')
    .description('copy recorded runs (events, streams, runs, the LLM cache) between stores, verifying every hash chain; the copy has the same fingerprint')
    .argument('[runs...]', 'run ids (default: every run of the source)')
    .requiredOption('--from <store>', 'the source store: a database file, sqlite:PATH or postgres://user:pass@host:port/db')
    .requiredOption('--to <store>', 'the target store (created when absent)')
    .action(async (runArgs: string[], opts: { from: string; to: string }) => {
      const runIds = runArgs.length === 0 ? null : runArgs.map((a) => {
        const id = Number(a);
        if (!Number.isInteger(id) || id < 1) throw new UsageError(`RUN: "${a}" is not a run id (see \`sim runs\`)`);
        return id;
      });
      const fromLocation = parseStoreLocation(opts.from, '--from');
      const toLocation = parseStoreLocation(opts.to, '--to');
      const from = await EventStore.existing(fromLocation);
      if (!from) throw new UsageError(`--from ${maskPassword(opts.from)}: holds no sim store`);
      try {
        // Everything to copy is verified before the target is opened (or created).
        const plan = await planCopy(from, runIds);
        const to = await EventStore.at(toLocation);
        try {
          await copyRuns(from, to, plan, (r) => {
            const what = r.outcome === 'copied' ? `copied run ${r.runId} (${r.streams} streams, ${r.events} events)` : `run ${r.runId} is already there (same fingerprint): nothing to do`;
            process.stdout.write(`${what}; fingerprint ${r.fingerprint}\n`);
          });
          process.stdout.write(`${from.location} -> ${to.location}: chains verified, LLM cache copied\n`);
        } finally {
          await to.close();
        }
      } finally {
        await from.close();
      }
    });
}
