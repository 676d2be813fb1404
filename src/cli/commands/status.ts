import type { Command } from 'commander';
import { postgresOnly, storeName, type StoreFlags } from '../../api/store.js';
import { RunNotFoundError, UsageError } from '../../errors.js';
import { DEFAULT_OUT, integerFlag } from '../options.js';
import { outputWidth } from '../table.js';

/** `sim status`: runs of a PostgreSQL store and their jobs, one line per run; `--run ID` one run's streams. */
export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('runs of a PostgreSQL store, one line each, live ones first: their jobs (running, queued, failed), round, rounds/s, workers; --run ID: one run\'s streams (worker, since, round, rounds/s, attempts, reason)')
    .option('--out <dir>', 'output directory', DEFAULT_OUT)
    .option('--run <id>', 'one run in detail: a line per stream and its job')
    .option('--json', 'print JSON (every run, or the one of --run, with every stream)')
    .option('--watch [seconds]', 'refresh every few seconds (default 2) until Ctrl-C', integerFlag('--watch', 1))
    .action(async (opts: StoreFlags & { json?: boolean; watch?: number | true; run?: string }) => {
      // Said before the job queue (and the engine code its module shares with submit and worker) is loaded.
      postgresOnly(opts, 'sim status');
      const runId = opts.run === undefined ? null : Number(opts.run);
      if (runId !== null && !(Number.isInteger(runId) && runId >= 1)) throw new UsageError(`--run: "${opts.run}" is not a run id (see \`sim status\`)`);
      const { queueStatus } = await import('../../api/status.js');
      const { runDetailLines, statusLines } = await import('../status-view.js');
      for (;;) {
        const runs = await queueStatus(opts);
        const run = runId === null ? null : runs.find((r) => r.runId === runId);
        if (run === undefined) throw new RunNotFoundError(`${storeName(opts)}: no run with id ${runId} (see \`sim status\`)`);
        const width = outputWidth();
        let text: string;
        if (opts.json) text = JSON.stringify(run ?? runs, null, 2);
        else if (run) text = runDetailLines(run, { width, nowMs: Date.now() }).join('\n');
        // Watching, the runs that fit the terminal's height (a line is kept for the cursor).
        else text = statusLines(runs, { width, height: opts.watch && process.stdout.isTTY && process.stdout.rows ? process.stdout.rows - 1 : opts.watch ? 23 : undefined }).join('\n');
        if (opts.watch) process.stdout.write('\x1b[2J\x1b[H');
        process.stdout.write(`${text}\n`);
        if (!opts.watch) return;
        await new Promise((resolve) => setTimeout(resolve, (opts.watch === true ? 2 : opts.watch!) * 1000));
      }
    });
}
