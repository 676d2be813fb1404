import type { Command } from 'commander';
import { projectRun } from '../../api/export.js';
import { storeLine } from '../../api/store.js';
import { DEFAULT_OUT } from '../options.js';

export function registerProject(program: Command): void {
  program
    .command('project')
    .description("verify a run's hash chains and (with --rebuild) drop and rebuild its projections from the events")
    .argument('[run]', 'run id (default: the latest run)')
    .option('--out <dir>', 'output directory holding sim.db', DEFAULT_OUT)
    .option('--rebuild', 'drop and rebuild every projection table of the run from its events')
    .action(async (run: string | undefined, opts: { out: string; store?: string; rebuild?: boolean }) => {
      const result = await projectRun({ ...opts, run }, (v) => {
        // The store first (on stderr, so stdout stays the run's lines), once the chains are known intact.
        process.stderr.write(`sim: ${storeLine(opts)}\n`);
        process.stdout.write(`run ${v.runId}: hash chains intact in ${v.streams} streams\n`);
      });
      if (result.rebuilt) process.stdout.write(`run ${result.runId}: projections rebuilt from ${result.rebuilt.events} events in ${result.rebuilt.seconds.toFixed(1)}s\n`);
    });
}
