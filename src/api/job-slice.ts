import { conditionRuns, WARMUP_STREAM, type ExperimentConfig } from '../domain/config.js';
import type { Provider, ProviderStats } from '../domain/decision.js';
import { worldFold } from '../domain/evolve.js';
import { emptyWorld } from '../domain/world.js';
import { ConfigError, CostCapError, FallbackBudgetError, InputFileError, IntegrityError, InterruptedError, LlmConfigurationError, RunNotFoundError, StreamConflictError, UsageError } from '../errors.js';
import { foldStream } from '../events/fold.js';
import { streamId } from '../events/stream-ids.js';
import type { SharedEndpointPools } from '../llm/endpoint-pool.js';
import type { EngineOptions, ProgressEvent } from '../sim/engine-types.js';
import { loadPopulation } from '../sim/population.js';
import { streamFinished, warmupStreamOf } from '../sim/run-status.js';
import { runCondition, runWarmup } from '../sim/stages.js';
import type { EventStore } from '../sim/store.js';
import type { StreamMemory } from '../sim/stream-memory.js';
import { maxFallbackRate, type LlmFlags } from './llm.js';
import { chooseProvider } from './provider.js';
import { capForRest, SpendMeter } from './spend.js';

/**
 * Executing one distributed job's slice (docs/distributed.md): continue a stream from its last
 * complete round until it ends, the slice's time is over or a stop is asked. Shared by the worker's
 * main thread (LLM jobs) and the job threads (offline jobs, ./job-worker.ts), which report what it
 * came to; only the main thread settles the job with the queue (src/api/distributed.ts).
 */

/** A job's data: which stream of which run, and its takeover bound (the queue's StreamJob). */
export interface SliceJob {
  runId: number;
  stream: string;
  takeover: number;
}

/** What a slice came to; plain data, so a job thread can hand it to the main thread. */
export type SliceOutcome =
  /** The stream ended; `next` are the jobs to enqueue as the job completes (a warmup's conditions). */
  | { kind: 'done'; next: SliceJob[] }
  /** Stopped at a round boundary (the slice's end or a stop): the job continues in a new one. */
  | { kind: 'interrupted'; round: number }
  /** Another worker appended to the stream first. */
  | { kind: 'conflict'; message: string }
  /**
   * Stopped at a round boundary before the run's spend would pass its cap (llm.max_cost_usd): the job
   * ends without a successor and is not a failure; `sim resume --max-cost MORE` continues the run.
   */
  | { kind: 'capped'; round: number; message: string }
  | { kind: 'failed'; permanent: boolean; message: string };

/** A failure that will not go away by itself: the job is failed, never retried. */
export function isPermanent(error: unknown): boolean {
  return (
    error instanceof LlmConfigurationError ||
    error instanceof ConfigError ||
    error instanceof UsageError ||
    error instanceof InputFileError ||
    error instanceof RunNotFoundError ||
    error instanceof IntegrityError ||
    error instanceof FallbackBudgetError
  );
}

/**
 * How an error ends a job: an interruption asked for (the slice's end, a stop) continues it, an
 * append refused drops it, and the rest fail it, permanently or to be retried.
 */
export function classifyFailure(error: unknown, asked: boolean): SliceOutcome {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof InterruptedError && asked) return { kind: 'interrupted', round: error.round };
  if (error instanceof CostCapError) return { kind: 'capped', round: error.round, message };
  if (error instanceof StreamConflictError) return { kind: 'conflict', message };
  return { kind: 'failed', permanent: isPermanent(error), message };
}

export interface SliceContext {
  /** Stops the slice at the next round boundary (Ctrl-C, SIGTERM). */
  stop: AbortSignal;
  /**
   * How long the slice runs, from when it starts here (in a job thread: once the thread is up and
   * connected, so a slow start does not eat the slice): checked before each round, except the first.
   */
  sliceMs: number;
  /**
   * Called once the stream's last complete round is known, before any round runs; `thread` is the
   * worker thread's id when the slice runs in one (./job-thread.ts), else absent.
   */
  started: (fromRound: number | null, thread?: number) => void | Promise<void>;
  /** A round appended; `stats`, the slice's provider's totals (absent in a job thread). */
  onProgress: (progress: ProgressEvent, stats?: ProviderStats) => void;
  /**
   * The job slot's memory of the streams its last slice ran (src/sim/stream-memory.ts), so that a
   * slot taking its own job back continues without folding; absent (a job thread): always folded.
   */
  memory?: StreamMemory;
}

/** Runs one slice of a job on a store; never throws (a failure is an outcome). */
export async function runSlice(store: EventStore, config: ExperimentConfig, job: SliceJob, flags: LlmFlags & { concurrency?: number; pools?: SharedEndpointPools }, context: SliceContext): Promise<SliceOutcome> {
  const { runId, stream, takeover } = job;
  let sliced = false;
  const sliceEnds = Date.now() + context.sliceMs;
  // Every slice runs at least one round, however long its start took (folding the warmup, loading
  // the population, a loaded machine): a slice over before its first round would re-enqueue the job
  // without progress, again and again.
  let rounds = 0;
  let provider: Provider | null = null;
  let meter: SpendMeter | null = null;
  try {
    provider = chooseProvider(config, { store, concurrency: flags.concurrency, llm: flags, pools: flags.pools });
    // Every job of the run adds to its one total in the store and holds it against the run's cap.
    if (provider.costBound) meter = new SpendMeter(store, runId, config, provider, config.llm.max_cost_usd);
    const warmupId = warmupStreamOf(runId, config);
    const id = streamId(runId, stream);
    const memory = context.memory;
    // What this job may use: its stream's state and its run's warmup end. Nothing else stays held.
    memory?.forgetAllBut([id, warmupId]);
    await context.started(await store.maxRoundOf(id, 'RoundCompleted'));
    const opts: EngineOptions = {
      store,
      provider,
      config,
      runId,
      population: null,
      signal: context.stop,
      maxFallbackRate: maxFallbackRate(flags),
      beforeDecide: meter?.beforeDecide,
      sliceOver: () => (sliced = rounds++ > 0 && Date.now() >= sliceEnds),
      onProgress: (progress) => context.onProgress(progress, provider?.stats?.()),
      memory,
    };
    const next: SliceJob[] = [];
    if (stream === WARMUP_STREAM) {
      if (config.from_warmup) throw new UsageError(`run ${runId} starts from ${config.from_warmup}: it has no warmup of its own to execute`);
      if ((await store.head(warmupId)).position === 0) opts.population = loadPopulation(config);
      const warmupEnd = await runWarmup(opts, warmupId);
      // The conditions this warmup enqueues fork from its end: a condition job in this slot starts from it.
      memory?.keep(warmupId, await store.head(warmupId), warmupEnd, true);
      if (!config.warmup_only) {
        for (const c of conditionRuns(config)) if (!(await streamFinished(store, streamId(runId, c.stream)))) next.push({ runId, stream: c.stream, takeover });
      }
    } else {
      const condition = conditionRuns(config).find((c) => c.stream === stream);
      if (!condition) throw new UsageError(`run ${runId} has no condition stream "${stream}"`);
      if (!(await streamFinished(store, warmupId))) throw new IntegrityError(`run ${runId}: the warmup is not finished, so condition ${stream} cannot start`);
      const head = await store.head(warmupId);
      let warmupEnd = memory?.recall(warmupId, head)?.state;
      if (!warmupEnd) {
        warmupEnd = (await foldStream(store, emptyWorld(), warmupId, worldFold)).state;
        memory?.keep(warmupId, head, warmupEnd, true);
      }
      await runCondition(opts, condition, warmupId, warmupEnd);
    }
    return { kind: 'done', next };
  } catch (error) {
    // The command that continues a capped run names it (the store's URL holds a password: not repeated).
    const named = error instanceof CostCapError ? new CostCapError(error.round, error.stream, error.spentUsd, error.capUsd, error.restUsd, `sim resume ${runId} --store URL --max-cost ${capForRest(error.spentUsd, error.restUsd)}`) : error;
    return classifyFailure(named, sliced || context.stop.aborted);
  } finally {
    await meter?.settle().catch(() => undefined);
    await provider?.close?.();
  }
}
