import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseExperiment, roundsInRun, WARMUP_STREAM, type ExperimentConfig } from '../domain/config.js';
import type { ProviderStats } from '../domain/decision.js';
import { RunNotFoundError, UsageError } from '../errors.js';
import { EventStore } from '../sim/store.js';
import { streamId } from '../events/stream-ids.js';
import type { OpenAiStats } from '../llm/openai-provider.js';
import { firstDivergence, type Divergence } from '../sim/compare.js';
import { runExperiment, type Population } from '../sim/engine.js';
import { loadPopulation } from '../sim/population.js';
import { CODE_VERSION } from '../version.js';
import { checkEndpoints, maxFallbackRate, type LlmFlags } from './llm.js';
import { chooseProvider } from './provider.js';
import { executeRun, type RunHooks, type RunResult } from './run.js';
import { openStoreWithRuns, selectRun } from './runs.js';

export interface ReplayOptions extends LlmFlags {
  /** The seed to replay with: the recorded seed is an exact replay; another runs the config anew. */
  seed: number;
  /** The run id (default: the latest run). */
  run?: string;
  out: string;
  /** The store (src/api/store.ts): a file, sqlite:PATH or postgres://...; default SIM_STORE, else <out>/sim.db. */
  store?: string;
  /** Keep the scratch copy of an exact replay. */
  keep?: boolean;
}

/** An exact replay's outcome: identical (divergence null) or the first event that differs. */
export interface ExactReplay {
  kind: 'exact';
  runId: number;
  /** The recorded run's fingerprint. */
  fingerprint: string;
  divergence: Divergence | null;
  stats: ProviderStats | undefined;
  /** Requests the recorded run never got an answer to (an older sim cached transport failures). */
  unanswered: number;
  unansweredExamples: string[];
  scratchDir: string;
}

export type ReplayResult = ExactReplay | { kind: 'rerun'; result: RunResult };

/**
 * `sim replay`: under the recorded seed, re-executes the run from its stored config and cached
 * answers and compares every event; under another seed, runs the same config as a new run.
 */
export async function replayRun(options: ReplayOptions, hooks: RunHooks = {}): Promise<ReplayResult> {
  const store = await openStoreWithRuns(options);
  try {
    const runId = await selectRun(store, options.run, '--run');
    const config = parseExperiment((await store.getRun(runId)).config, `run ${runId} config`);
    if (options.seed !== config.seed) return { kind: 'rerun', result: await rerunWithSeed(store, config, options, hooks) };
    return await exactReplay(store, runId, config, options.keep ?? false, hooks);
  } finally {
    await store.close();
  }
}

async function rerunWithSeed(store: EventStore, recorded: ExperimentConfig, options: ReplayOptions, hooks: RunHooks): Promise<RunResult> {
  const { seed } = options;
  const notice = hooks.notice ?? (() => undefined);
  const config = parseExperiment({ ...recorded, seed, treatment_seed: recorded.treatment_seed, from_warmup: null });
  const population = loadPopulation(config);
  await checkEndpoints(config, options, notice);
  const runId = await store.createRun({ seed, config, codeVersion: CODE_VERSION, createdAt: new Date().toISOString() });
  notice(`sim: running the recorded config under seed ${seed} as run ${runId}`);
  const provider = chooseProvider(config, { store, llm: options });
  try {
    return await executeRun({ store, runId, config, provider, population, out: options.out, maxFallbackRate: maxFallbackRate(options) }, hooks);
  } finally {
    await provider.close?.();
  }
}

/**
 * Replays into a scratch database, its provider reading answers from the recorded database's cache
 * (cache-only never writes, so nothing there changes).
 */
async function exactReplay(original: EventStore, runId: number, config: ExperimentConfig, keep: boolean, hooks: RunHooks): Promise<ExactReplay> {
  const notice = hooks.notice ?? (() => undefined);
  if (config.from_warmup) {
    throw new UsageError(`run ${runId} started from another run's warmup (${config.from_warmup}): replay that run, which recorded the warmup`);
  }
  const population = await recordedPopulation(original, runId);
  const scratchDir = mkdtempSync(join(tmpdir(), 'sim-replay-'));
  const scratch = await EventStore.open(scratchDir);
  const provider = chooseProvider(config, { cacheOnly: true, store: original });
  try {
    const replayId = await scratch.createRun({ seed: config.seed, config, codeVersion: CODE_VERSION, createdAt: new Date().toISOString() });
    notice(`sim: replaying run ${runId} (seed ${config.seed}) from the cache only (${await cachedAnswers(original)} cached answers) in ${scratchDir}`);
    hooks.onStart?.({ runId: replayId, config, logFile: null, offline: provider.offline, roundsTotal: roundsInRun(config), roundsDone: 0, stats: () => provider.stats?.() });
    await runExperiment({ store: scratch, provider, config, runId: replayId, population, onProgress: (p) => hooks.onProgress?.(p, provider.stats?.()) });
    const divergence = await firstDivergence(original, runId, scratch, replayId);
    const stats = provider.stats?.();
    const openAi = stats as OpenAiStats | undefined;
    return { kind: 'exact', runId, fingerprint: await original.fingerprint(runId), divergence, stats, unanswered: openAi?.unanswered ?? 0, unansweredExamples: openAi?.unansweredExamples ?? [], scratchDir };
  } finally {
    await provider.close?.();
    await scratch.close();
    if (keep) notice(`sim: scratch copy kept in ${scratchDir}`);
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
