import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { conditionRuns, parseExperiment, roundsInRun, WARMUP_STREAM, type ExperimentConfig } from '../domain/config.js';
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
import { confirmSpending, spendEstimate } from './spend.js';
import { executeRun, type RunHooks, type RunResult } from './run.js';
import { openStoreWithRuns, selectRun } from './runs.js';

export interface ReplayOptions extends LlmFlags {
  /**
   * Which run to check, by its seed: the one recorded run with this seed (several: refused, naming
   * them). With `run`, the seed that run must have. With `newRun`, the seed of a new run.
   */
  seed?: number;
  /** The run id (default: the run recorded with `seed`, else the latest run). */
  run?: string;
  /** Run the config of `run` (default: the latest run) under `seed`, a seed it was not recorded with, as a new run. */
  newRun?: boolean;
  /** A new run (newRun) of a paid LLM config spends without asking (as `sim run --yes`). */
  yes?: boolean;
  out: string;
  /** The store (src/api/store.ts): a file, sqlite:PATH or postgres://...; default SIM_STORE, else <out>/sim.db. */
  store?: string;
  /** Keep the scratch copy of an exact replay. */
  keep?: boolean;
  /**
   * Threads for the conditions of an exact replay (default: 2 from 1,000 users, else 1). An exact
   * replay makes no HTTP request, so its conditions run in threads even for an LLM run; the result
   * is identical for any number.
   */
  workers?: number;
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
    const chosen = await chooseReplay(store, options);
    const config = parseExperiment((await store.getRun(chosen.runId)).config, `run ${chosen.runId} config`);
    if (chosen.newSeed !== null) return { kind: 'rerun', result: await rerunWithSeed(store, config, chosen.newSeed, options, hooks) };
    return await exactReplay(store, chosen.runId, config, options.keep ?? false, options.workers ?? defaultReplayWorkers(config), hooks);
  } finally {
    await store.close();
  }
}

/**
 * The run a replay checks, or the run whose config a new run takes (newSeed set). A seed names a
 * recorded run: the one run with it is checked; several are named; none, or a seed other than the
 * named run's, is a new run only when asked for with --new-run.
 */
export async function chooseReplay(store: EventStore, options: Pick<ReplayOptions, 'seed' | 'run' | 'newRun'>): Promise<{ runId: number; newSeed: number | null }> {
  const { seed } = options;
  if (options.newRun && seed === undefined) throw new UsageError('--new-run: give the new run\'s --seed');
  const refuseSameSeed = (runId: number, recorded: number) => {
    throw new UsageError(`--new-run: run ${runId} was recorded with seed ${recorded} already; drop --new-run to check it, or give another --seed`);
  };
  if (options.run !== undefined) {
    const runId = await selectRun(store, options.run, '--run');
    const recorded = (await store.getRun(runId)).seed;
    if (seed === undefined || seed === recorded) {
      if (options.newRun) refuseSameSeed(runId, recorded);
      return { runId, newSeed: null };
    }
    if (!options.newRun) {
      throw new UsageError(`--seed ${seed}: run ${runId} was recorded with seed ${recorded}; to check it, drop --seed; to run its config under seed ${seed} as a new run, add --new-run`);
    }
    return { runId, newSeed: seed };
  }
  if (seed === undefined) return { runId: await selectRun(store, undefined, '--run'), newSeed: null };
  const rows = await store.listRunRows();
  if (rows.length === 0) throw new RunNotFoundError(`${store.location}: holds no runs`);
  const latest = rows.reduce((a, b) => (b.id > a.id ? b : a));
  if (options.newRun) {
    if (latest.seed === seed) refuseSameSeed(latest.id, seed);
    return { runId: latest.id, newSeed: seed };
  }
  const matching = rows.filter((r) => r.seed === seed).map((r) => r.id).sort((a, b) => a - b);
  if (matching.length === 1) return { runId: matching[0], newSeed: null };
  if (matching.length > 1) throw new UsageError(`--seed ${seed}: runs ${matching.join(', ')} were recorded with seed ${seed}; say which with --run`);
  const recorded = rows
    .map((r) => r.id)
    .sort((a, b) => a - b)
    .slice(-8)
    .map((id) => `run ${id} seed ${rows.find((r) => r.id === id)!.seed}`);
  throw new RunNotFoundError(
    `--seed ${seed}: no run in ${store.location} was recorded with seed ${seed} (${rows.length > 8 ? 'the latest: ' : ''}${recorded.join(', ')}); to run the latest run's config under seed ${seed} as a new run, add --new-run`,
  );
}

async function rerunWithSeed(store: EventStore, recorded: ExperimentConfig, seed: number, options: ReplayOptions, hooks: RunHooks): Promise<RunResult> {
  const notice = hooks.notice ?? (() => undefined);
  const config = parseExperiment({ ...recorded, seed, treatment_seed: recorded.treatment_seed, from_warmup: null });
  const population = loadPopulation(config);
  await checkEndpoints(config, options, notice);
  // A new run is new spending: its estimate first, and it goes on only when asked for (--yes, or a yes on a terminal).
  await confirmSpending(spendEstimate(config, population.personas), { yes: options.yes }, hooks, 'this new run');
  const runId = await store.createRun({ seed, config, codeVersion: CODE_VERSION, createdAt: new Date().toISOString() });
  notice(`sim: running the recorded config under seed ${seed} as run ${runId}`);
  const provider = chooseProvider(config, { store, llm: options });
  try {
    return await executeRun({ store, runId, config, provider, population, out: options.out, maxFallbackRate: maxFallbackRate(options), maxCostUsd: config.llm.max_cost_usd }, hooks);
  } finally {
    await provider.close?.();
  }
}

/**
 * Replays into a scratch database, its provider reading answers from the recorded database's cache
 * (cache-only never writes, so nothing there changes).
 */
async function exactReplay(original: EventStore, runId: number, config: ExperimentConfig, keep: boolean, workers: number, hooks: RunHooks): Promise<ExactReplay> {
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
    // Conditions in worker threads have providers of their own: the totals are the warmup's
    // (this provider) and each condition's, added in the conditions' order.
    const byCondition = new Map<string, ProviderStats>();
    const compared = new Map<string, Divergence | null>();
    const order = conditionRuns(config).map((c) => c.stream);
    const stats = () => mergeStats([provider.stats?.(), ...order.map((s) => byCondition.get(s))]);
    hooks.onStart?.({ runId: replayId, config, logFile: null, offline: provider.offline, roundsTotal: roundsInRun(config), roundsDone: 0, stats });
    await runExperiment({
      store: scratch,
      provider,
      config,
      runId: replayId,
      population,
      workers,
      threadProvider: { kind: 'cache-only', cache: original.handoff() },
      conditionCosts: await recordedCosts(original, runId),
      onConditionStats: (stream, s) => byCondition.set(stream, s),
      // Threads compare the conditions they replay; the rest (the warmup) is compared here.
      compareWith: { store: original.handoff(), runId },
      onConditionCompared: (stream, d) => compared.set(stream, d),
      onProgress: (p) => hooks.onProgress?.(p, stats()),
    });
    const divergence = await firstDivergence(original, runId, scratch, replayId, compared);
    const totals = stats();
    const openAi = totals as OpenAiStats | undefined;
    return { kind: 'exact', runId, fingerprint: await original.fingerprint(runId), divergence, stats: totals, unanswered: openAi?.unanswered ?? 0, unansweredExamples: openAi?.unansweredExamples ?? [], scratchDir };
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

/** Threads for an exact replay's conditions when not given: re-rendering and hashing every prompt makes a turn dearer than an offline one. */
export function defaultReplayWorkers(config: ExperimentConfig): number {
  return config.n_users >= 1000 ? 2 : 1;
}

/** A replay's conditions cost what their recordings hold: each stream's events, by name. */
async function recordedCosts(store: EventStore, runId: number): Promise<Map<string, number>> {
  return new Map((await store.runStreams(runId)).map((s) => [s.name, s.position]));
}

/**
 * Provider statistics added up: counts and tokens summed, the named examples of unanswered requests
 * kept in order (the first five, as one provider keeps them). Undefined when none is given.
 */
export function mergeStats(parts: Array<ProviderStats | undefined>): ProviderStats | undefined {
  const present = parts.filter((p): p is ProviderStats => p !== undefined);
  if (present.length === 0) return undefined;
  if (present.length === 1) return present[0];
  const total: Record<string, unknown> = { ...present[0] };
  for (const part of present.slice(1)) {
    for (const [key, value] of Object.entries(part)) {
      if (typeof value === 'number') total[key] = ((total[key] as number | undefined) ?? 0) + value;
      else if (key === 'unansweredExamples') total[key] = [...((total[key] as string[] | undefined) ?? []), ...(value as string[])].slice(0, 5);
    }
  }
  return total as unknown as ProviderStats;
}
