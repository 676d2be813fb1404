import type { Command } from 'commander';
import { submitRun, type SubmitOptions } from '../../api/distributed.js';
import { storeLine } from '../../api/store.js';
import { addExperimentOptions, DEFAULT_OUT, integerFlag } from '../options.js';
import { spendHooks } from '../run-view.js';

/** `sim submit`: records a run in a PostgreSQL store and enqueues its warmup for `sim worker`; prints the run id. */
export function registerSubmit(program: Command): void {
  const command = program
    .command('submit')
    .description('record a run in a PostgreSQL store and enqueue it for `sim worker` processes; prints the run id and returns at once')
    .option('--out <dir>', 'output directory (logs, exports)', DEFAULT_OUT);
  addExperimentOptions(command)
    .option('--warmup-only', 'record the warmup only (conditions can fork from it later with --from-warmup)')
    .option('--from-warmup [run]', 'enqueue only the conditions, forked from a recorded warmup of this store (a run id; default: the latest finished one)')
    .option('--takeover <seconds>', 'a dead worker\'s job is taken over within this many seconds (default 60)', integerFlag('--takeover', 20))
    .action(async (opts: SubmitOptions) => {
      const result = await submitRun(opts, (line) => process.stderr.write(`${line}\n`), spendHooks);
      process.stderr.write(`sim: run ${result.runId} submitted to ${storeLine(opts)}; start \`sim worker --store ...\` to execute it\n`);
      process.stdout.write(`${result.runId}\n`);
    });
}
