import { conditionRuns, WARMUP_STREAM, mainStartRound, type ConditionRun } from '../domain/config.js';
import { worldFold } from '../domain/evolve.js';
import { emptyWorld, type World } from '../domain/world.js';
import { foldStream } from '../events/fold.js';
import { streamId } from '../events/stream-ids.js';
import { checkpoint } from './decide.js';
import type { EngineOptions } from './engine-types.js';
import { streamFinished } from './run-status.js';
import { runCondition, runWarmup } from './stages.js';
import { runInWorkers } from './workers.js';

export type { EngineOptions, Population, ProgressEvent } from './engine-types.js';
export { populationEvents } from './population-events.js';

/**
 * Runs an experiment on the event store: the warmup once, then every condition forked from the
 * warmup's end state, each in its own stream (./stages.ts), in this thread or in worker threads
 * (./workers.ts).
 */
export async function runExperiment(opts: EngineOptions): Promise<void> {
  const warmupId = opts.warmupStream ?? streamId(opts.runId, WARMUP_STREAM);
  let warmupEnd: World;
  if (opts.warmupStream) {
    warmupEnd = (await foldStream(opts.store, emptyWorld(), opts.warmupStream, worldFold)).state;
    if (!(await streamFinished(opts.store, opts.warmupStream))) throw new Error(`warmup stream ${opts.warmupStream} is not finished`);
  } else {
    warmupEnd = await runWarmup(opts, warmupId);
  }
  if (opts.warmupOnly) return;
  // A signal that arrived as the warmup ended must not start the conditions (or their threads).
  await checkpoint(opts.signal, mainStartRound(opts.config));
  const pending: ConditionRun[] = [];
  for (const c of conditionRuns(opts.config)) if (!(await streamFinished(opts.store, streamId(opts.runId, c.stream)))) pending.push(c);
  const workers = Math.min(opts.workers ?? 1, pending.length);
  if (workers > 1 && opts.provider.offline) {
    await runInWorkers(opts, pending, warmupId, warmupEnd, workers);
  } else {
    await runConditions(opts, pending, warmupId, warmupEnd);
  }
}

/** Runs conditions one after another in this thread (also what each worker thread does with its share). */
export async function runConditions(opts: EngineOptions, conditions: ConditionRun[], warmupId: string, warmupEnd: World): Promise<void> {
  for (const condition of conditions) await runCondition(opts, condition, warmupId, warmupEnd);
}
