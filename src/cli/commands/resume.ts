import type { Command } from 'commander';
import { resumeRun, type ResumeOptions } from '../../api/resume.js';
import { storeLine } from '../../api/store.js';
import { addLlmOptions, addOutOption, integerFlag, parseUsd } from '../options.js';
import { printSummary, RunView } from '../run-view.js';

export function registerResume(program: Command): void {
  const command = program
    .command('resume')
    .description('continue an interrupted run from its last complete round (the cache answers what was already paid for)')
    .argument('[run]', 'run id (default: the latest run)');
  addOutOption(command)
    .option('--concurrency <n>', 'LLM requests in flight (default 32)', integerFlag('--concurrency', 1))
    .option('--max-cost <usd>', 'the spending cap for the run\'s total LLM spend in USD (default: the one it was started with); raise it to continue a run stopped at its cap', parseUsd);
  addLlmOptions(command).action(async (run: string | undefined, opts: Omit<ResumeOptions, 'run'>) => {
    const result = await new RunView(() => storeLine(opts), true).around((hooks) => resumeRun({ ...opts, run }, hooks));
    if (result.alreadyFinished) process.stdout.write(`run ${result.runId} is already finished (fingerprint ${result.fingerprint})\n`);
    else printSummary(result);
  });
}
