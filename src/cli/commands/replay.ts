import type { Command } from 'commander';
import { replayRun, type ReplayOptions } from '../../api/replay.js';
import { storeLine } from '../../api/store.js';
import { addLlmOptions, addOutOption, integerFlag } from '../options.js';
import { printSummary, RunView } from '../run-view.js';
import { notice } from '../notice.js';

export function registerReplay(program: Command): void {
  const command = program
    .command('replay')
    .description('re-execute a recorded run from its stored config and cached answers and compare every event; with --new-run, run its config under another --seed as a new run')
    .option('--seed <n>', 'the seed of the run to check: the one run recorded with it (several: say which with --run); with --new-run, the new run\'s seed', integerFlag('--seed'))
    .option('--run <id>', 'run id (default: the run recorded with --seed, else the latest run)')
    .option('--new-run', 'run the config of --run (default: the latest run) under --seed, a seed it was not recorded with, as a new run')
    .option('--yes', 'a new run of a paid LLM config spends without asking (its estimate is printed first)');
  addOutOption(command)
    .option('--keep', 'keep the scratch copy of an exact replay (its path is printed)')
    .option('--workers <n>', 'threads for the conditions of an exact replay, which makes no HTTP request (default: 2 from 1,000 users, else 1); the result is identical for any number', integerFlag('--workers', 1));
  // An exact replay calls no server; a replay under another seed is a new run and may.
  addLlmOptions(command).action(async (opts: ReplayOptions) => {
    const replay = await new RunView(() => storeLine(opts), true).around((hooks) => replayRun(opts, hooks));
    if (replay.kind === 'rerun') {
      printSummary(replay.result);
      return;
    }
    const { unanswered, stats, divergence: d } = replay;
    if (unanswered > 0) {
      const examples = replay.unansweredExamples.join(', ');
      notice(`sim: note: the recorded run applied fallbacks to ${unanswered} unanswered request${unanswered === 1 ? '' : 's'} (${examples}${unanswered > 5 ? ', ...' : ''}): the server never answered them (an older sim cached transport failures); they are not answers`);
    }
    if (!d) {
      process.stdout.write(`identical ${replay.fingerprint}${stats ? ` (${stats.calls} HTTP requests, ${stats.cacheHits} cache hits)` : ''}\n`);
      return;
    }
    process.stdout.write(
      [
        `diverged in stream ${d.stream} at sequence ${d.streamPosition} (round ${d.round ?? '-'}, agent ${d.agentId ?? '-'})`,
        `  recorded: ${d.type.expected ?? '(no event)'} ${d.payload.expected ?? ''}`,
        `  replayed: ${d.type.actual ?? '(no event)'} ${d.payload.actual ?? ''}`,
      ].join('\n') + '\n',
    );
    process.exitCode = 1;
  });
}
