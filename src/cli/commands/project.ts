import type { Command } from 'commander';
import { rebuildProjections } from '../../projections/rebuild.js';
import { requireChains } from '../../report/integrity.js';
import { DEFAULT_OUT } from '../options.js';
import { openStoreWithRuns, selectRun } from '../../api/index.js';

export function registerProject(program: Command): void {
  program
    .command('project')
    .description("verify a run's hash chains and (with --rebuild) drop and rebuild its projections from the events")
    .argument('[run]', 'run id (default: the latest run)')
    .option('--out <dir>', 'output directory holding sim.db', DEFAULT_OUT)
    .option('--rebuild', 'drop and rebuild every projection table of the run from its events')
    .action(async (runArg: string | undefined, opts: { out: string; rebuild?: boolean }) => {
      const store = await openStoreWithRuns(opts.out);
      try {
        const runId = await selectRun(store, runArg);
        const streams = await store.runStreams(runId);
        requireChains(store, streams.map((s) => s.streamId));
        process.stdout.write(`run ${runId}: hash chains intact in ${streams.length} streams\n`);
        if (opts.rebuild) {
          const started = Date.now();
          const events = rebuildProjections(store, runId, streams);
          process.stdout.write(`run ${runId}: projections rebuilt from ${events} events in ${((Date.now() - started) / 1000).toFixed(1)}s\n`);
        }
      } finally {
        await store.close();
      }
    });
}
