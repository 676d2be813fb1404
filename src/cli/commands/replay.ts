import type { Command } from 'commander';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseExperiment, roundsInRun, type ExperimentConfig } from '../../domain/config.js';
import { RunNotFoundError, UsageError } from '../../errors.js';
import { EventStore } from '../../sim/store.js';
import { streamId } from '../../events/stream-ids.js';
import { firstDivergence } from '../../sim/compare.js';
import { runExperiment, type Population } from '../../sim/engine.js';
import { WARMUP_STREAM } from '../../domain/config.js';
import { loadPopulation } from '../../sim/population.js';
import { CODE_VERSION } from '../../version.js';
import { DEFAULT_OUT } from '../program.js';
import { ProgressReporter } from '../progress.js';
import { openStoreWithRuns, selectRun } from '../run-select.js';
import type { OpenAiStats } from '../../llm/openai-provider.js';
import { addLlmOptions, checkEndpoints, maxFallbackRate, type LlmFlags } from '../llm-options.js';
import { chooseProvider, executeRun, integerFlag } from './run.js';

export function registerReplay(program: Command): void {
  const command = program
    .command('replay')
    .description('re-execute a recorded run from its stored config and cached answers and compare every event; with another --seed, run the same config under that seed as a new run')
    .requiredOption('--seed <n>', 'the seed to replay with (the recorded seed: exact replay)', integerFlag('--seed'))
    .option('--run <id>', 'run id (default: the latest run)')
    .option('--out <dir>', 'output directory holding sim.db', DEFAULT_OUT)
    .option('--keep', 'keep the scratch copy of an exact replay (its path is printed)');
  // An exact replay calls no server; a replay under another seed is a new run and may.
  addLlmOptions(command).action(async (opts: { seed: number; run?: string; out: string; keep?: boolean } & LlmFlags) => {
      const store = await openStoreWithRuns(opts);
      try {
        const runId = await selectRun(store, opts.run, '--run');
        const config = parseExperiment((await store.getRun(runId)).config, `run ${runId} config`);
        if (opts.seed !== config.seed) {
          await rerunWithSeed(store, config, opts.seed, opts.out, opts);
          return;
        }
        process.exitCode = await exactReplay(store, runId, config, opts.keep ?? false);
      } finally {
        await store.close();
      }
    });
}

async function rerunWithSeed(store: EventStore, recorded: ExperimentConfig, seed: number, out: string, llm: LlmFlags): Promise<void> {
  const config = parseExperiment({ ...recorded, seed, treatment_seed: recorded.treatment_seed, from_warmup: null });
  const population = loadPopulation(config);
  await checkEndpoints(config, llm);
  const runId = await store.createRun({ seed, config, codeVersion: CODE_VERSION, createdAt: new Date().toISOString() });
  process.stderr.write(`sim: running the recorded config under seed ${seed} as run ${runId}\n`);
  const provider = chooseProvider(config, { store, llm });
  try {
    await executeRun(store, runId, config, provider, population, out, undefined, 0, maxFallbackRate(llm));
  } finally {
    await provider.close?.();
  }
}

/**
 * Replays into a scratch database, its provider reading answers from the recorded database's cache
 * (cache-only never writes, so nothing there changes); returns the exit code.
 */
async function exactReplay(original: EventStore, runId: number, config: ExperimentConfig, keep: boolean): Promise<number> {
  if (config.from_warmup) {
    throw new UsageError(`run ${runId} started from another run's warmup (${config.from_warmup}): replay that run, which recorded the warmup`);
  }
  const population = await recordedPopulation(original, runId);
  const scratchDir = mkdtempSync(join(tmpdir(), 'sim-replay-'));
  const scratch = await EventStore.open(scratchDir);
  const provider = chooseProvider(config, { cacheOnly: true, store: original });
  try {
    const replayId = await scratch.createRun({ seed: config.seed, config, codeVersion: CODE_VERSION, createdAt: new Date().toISOString() });
    process.stderr.write(`sim: replaying run ${runId} (seed ${config.seed}) from the cache only (${await cachedAnswers(original)} cached answers) in ${scratchDir}\n`);
    const progress = new ProgressReporter(roundsInRun(config), process.stderr, () => provider.stats?.());
    await runExperiment({ store: scratch, provider, config, runId: replayId, population, onProgress: (p) => progress.update(p) });
    progress.done();
    const divergence = await firstDivergence(original, runId, scratch, replayId);
    const stats = provider.stats?.();
    const unanswered = (stats as OpenAiStats | undefined)?.unanswered ?? 0;
    if (unanswered > 0) {
      const examples = (stats as OpenAiStats).unansweredExamples.join(', ');
      process.stderr.write(`sim: note: the recorded run applied fallbacks to ${unanswered} unanswered request${unanswered === 1 ? '' : 's'} (${examples}${unanswered > 5 ? ', ...' : ''}): the server never answered them (an older sim cached transport failures); they are not answers\n`);
    }
    if (!divergence) {
      process.stdout.write(`identical ${await original.fingerprint(runId)}${stats ? ` (${stats.calls} HTTP requests, ${stats.cacheHits} cache hits)` : ''}\n`);
      return 0;
    }
    const d = divergence;
    process.stdout.write(
      [
        `diverged in stream ${d.stream} at sequence ${d.streamPosition} (round ${d.round ?? '-'}, agent ${d.agentId ?? '-'})`,
        `  recorded: ${d.type.expected ?? '(no event)'} ${d.payload.expected ?? ''}`,
        `  replayed: ${d.type.actual ?? '(no event)'} ${d.payload.actual ?? ''}`,
      ].join('\n') + '\n',
    );
    return 1;
  } finally {
    await provider.close?.();
    await scratch.close();
    if (keep) process.stderr.write(`sim: scratch copy kept in ${scratchDir}\n`);
    else rmSync(scratchDir, { recursive: true, force: true });
  }
}

async function recordedPopulation(store: EventStore, runId: number): Promise<Population> {
  const population: Population = { personas: [], follows: [], source: '' };
  read: for await (const page of store.readStream(streamId(runId, WARMUP_STREAM))) {
    for (const event of page) {
      if (event.type !== 'PopulationLoaded') break read;
      population.personas.push(...event.data.agents);
      for (const edge of event.data.follows) population.follows.push(edge);
      population.source = event.data.source;
    }
  }
  if (population.personas.length === 0) throw new RunNotFoundError(`run ${runId} has no recorded population: nothing to replay (resume it first)`);
  return population;
}

async function cachedAnswers(store: EventStore): Promise<number> {
  return store.cacheCount();
}
