import type { Command } from 'commander';
import { copyStore } from '../../api/copy.js';

export function registerCopy(program: Command): void {
  program
    .command('copy')
    .description('copy recorded runs (events, streams, runs, the LLM cache) between stores, verifying every hash chain; the copy has the same fingerprint')
    .argument('[runs...]', 'run ids (default: every run of the source)')
    .requiredOption('--from <store>', 'the source store: a database file, an output directory, sqlite:PATH or postgres://user:pass@host:port/db')
    .requiredOption('--to <store>', 'the target store (created when absent)')
    .action(async (runs: string[], opts: { from: string; to: string }) => {
      // The stores first, on stderr (stdout keeps one line per run), before the first run's line: a
      // refusal stays one line.
      let stores = '';
      const result = await copyStore(
        { ...opts, runs },
        (r) => {
          if (stores) process.stderr.write(stores);
          stores = '';
          const what = r.outcome === 'copied' ? `copied run ${r.runId} (${r.streams} streams, ${r.events} events)` : `run ${r.runId} is already there (same fingerprint): nothing to do`;
          process.stdout.write(`${what}; fingerprint ${r.fingerprint}\n`);
        },
        ({ from, to }) => (stores = `sim: copying from store ${from} to store ${to}\n`),
      );
      process.stdout.write(`${result.from} -> ${result.to}: chains verified, LLM cache copied\n`);
    });
}
