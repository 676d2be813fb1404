import { Option, type Command } from 'commander';
import { type RunOptions } from '../../api/config.js';
import { estimateRun } from '../../api/estimate.js';
import { startRun } from '../../api/run.js';
import { storeLine } from '../../api/store.js';
import { addExperimentOptions, addLlmOptions, DEFAULT_OUT, integerFlag } from '../options.js';
import { printEstimate, printSummary, RunView } from '../run-view.js';

export function registerRun(program: Command): void {
  const command = program
    .command('run')
    .description('run an experiment (default: the reference protocol on 1,000 users, offline)')
    .option('--out <dir>', 'output directory (holds sim.db and logs/)', DEFAULT_OUT);
  addExperimentOptions(command)
    .option('--concurrency <n>', 'LLM requests in flight (default 32)', integerFlag('--concurrency', 1))
    .option('--cache-only', 'never call the LLM: a request missing from the cache is an error')
    .option('--dry-run', 'estimate calls, tokens and cost, and run nothing')
    .option('--warmup-only', 'record the warmup only (conditions can fork from it later with --from-warmup)')
    .option('--from-warmup [run]', 'run the conditions from a recorded warmup (a run id; default: the latest finished one)')
    .option('--workers <n>', 'threads for the conditions with the offline model (default: 2 from 5,000 users, else 1); results are identical for any number', integerFlag('--workers', 1));
  // The reference's snake_case flags, so its users' commands keep working.
  const hidden = [
    new Option('--n_users <n>').argParser(integerFlag('--n_users')),
    new Option('--output_dir <dir>'),
    new Option('--num_contents <n>').argParser(integerFlag('--num_contents')),
    new Option('--feed_length <n>').argParser(integerFlag('--feed_length')),
    new Option('--skip_main'),
    new Option('--skip_warmup'),
    new Option('--batch_size <n>').argParser(integerFlag('--batch_size')),
    new Option('--n_cores <n>').argParser(integerFlag('--n_cores', 1)),
  ];
  addLlmOptions(command);
  for (const option of hidden) command.addOption(option.hideHelp());
  command.action(async (raw: Record<string, unknown>) => {
    const options: RunOptions = {
      ...(raw as unknown as RunOptions),
      out: (raw.output_dir as string | undefined) ?? (raw.out as string),
      nUsers: (raw.nUsers ?? raw.n_users) as number | undefined,
      numContents: (raw.numContents ?? raw.num_contents) as number | undefined,
      feedLength: (raw.feedLength ?? raw.feed_length) as number | undefined,
      warmupOnly: Boolean(raw.warmupOnly ?? raw.skip_main),
      fromWarmup: (raw.fromWarmup ?? (raw.skip_warmup ? true : undefined)) as string | true | undefined,
      concurrency: (raw.concurrency ?? raw.n_cores) as number | undefined,
    };
    if (raw.batch_size !== undefined) {
      process.stderr.write('note: --batch_size is accepted for compatibility; memory is bounded by design (one round in memory at a time)\n');
    }
    const view = new RunView(() => storeLine({ out: options.out!, store: options.store }), true);
    if (raw.dryRun) printEstimate(estimateRun(options, view.hooks.notice));
    else printSummary(await view.around((hooks) => startRun(options, hooks)));
  });
}
