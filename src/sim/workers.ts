import type { ConditionRun } from '../domain/config.js';
import type { ProviderStats } from '../domain/decision.js';
import type { World } from '../domain/world.js';
import type { StoreHandoff } from '../events/port.js';
import { CacheMissError, InterruptedError, SimError } from '../errors.js';
import type { Divergence } from './compare.js';
import type { EngineOptions, ProgressEvent, ThreadProvider } from './engine-types.js';
import { ShareFailure, ShareRunner, type Share, type ShareHooks, type ShareJob } from './share.js';

export type { ThreadProvider } from './engine-types.js';

export interface WorkerJob extends ShareJob {
  store: StoreHandoff;
  /** This thread's share, in the conditions' own order. */
  conditions: Share;
}

export type WorkerMessage =
  | { type: 'progress'; index: number; progress: ProgressEvent; stats: ProviderStats | null }
  | { type: 'condition-done'; index: number; stats: ProviderStats | null; compared: boolean; divergence: Divergence | null }
  | { type: 'done' }
  | {
      type: 'error';
      index: number | null;
      name: string;
      message: string;
      exitCode: number;
      round: number | null;
      stream: string | null;
      /** Set when the error is a cache miss (CacheMissError). */
      cacheMiss: { agentId: number; round: number; purpose: string } | null;
    };

/**
 * What the main thread tells a worker: stop everything (Ctrl-C), or stop the conditions after the
 * given index (a cache miss there already decides the error the run ends with).
 */
export type MainMessage = { type: 'abort' } | { type: 'stop-after'; index: number };

/**
 * A worker's old-generation cap. V8 lets garbage pile up far beyond the live set when the cap is
 * high (each thread is its own heap); a cap sized to the population keeps the run's memory
 * proportional to what it holds (about 6 MB of live state per 1,000 agents, with ample margin here).
 */
export function workerHeapMb(nUsers: number): number {
  return Math.min(16_384, Math.round(384 + nUsers * 0.04));
}

/**
 * Runs the pending conditions in threads, one share each (./deal.ts): the first share on this
 * thread (warm from the warmup, its world already here: no copy to send, no code to compile again),
 * the others in worker threads. Results do not depend on which thread ends first: each condition is
 * its own stream, and a failure is chosen by the conditions' order. When conditions miss the cache,
 * the run fails with the miss of the earliest such condition, the error a one-thread run (which
 * runs them in order) gives: the threads drop the conditions after it and finish those before it.
 */
export async function runInWorkers(opts: EngineOptions, pending: ConditionRun[], shares: number[][], warmupId: string, warmupEnd: World, provider: ThreadProvider): Promise<void> {
  const { Worker } = await import('node:worker_threads');
  const handoff = opts.store.handoff();
  const job: ShareJob = { runId: opts.runId, config: opts.config, warmupId, warmupEnd, provider, compareWith: opts.compareWith ?? null };
  const shareOf = (share: number[]): Share => share.map((index) => ({ index, condition: pending[index] }));
  const [own, ...others] = shares;
  const threads = others.map((share) => {
    const workerJob: WorkerJob = { ...job, store: handoff, conditions: shareOf(share) };
    return new Worker(new URL('./condition-worker.js', import.meta.url), { workerData: workerJob, resourceLimits: { maxOldGenerationSizeMb: workerHeapMb(opts.config.n_users) } });
  });
  const local = new ShareRunner(job, opts.store, opts.signal, provider.kind === 'offline' ? opts.provider : null);
  const tell = (message: MainMessage) => threads.forEach((t) => t.postMessage(message));
  const onAbort = () => tell({ type: 'abort' });
  opts.signal?.addEventListener('abort', onAbort);
  // Aborted while the threads were being created: the listener above would never fire.
  if (opts.signal?.aborted) onAbort();
  let firstMiss: { index: number; error: CacheMissError } | null = null;
  const missed = (index: number, error: CacheMissError) => {
    if (firstMiss && firstMiss.index <= index) return;
    firstMiss = { index, error };
    local.stopAfter(index);
    tell({ type: 'stop-after', index });
  };
  const hooks: ShareHooks = {
    onProgress: (index, progress, stats) => {
      if (stats) opts.onConditionStats?.(pending[index].stream, stats);
      opts.onProgress?.(progress);
    },
    onConditionDone: (index, stats, compared, divergence) => {
      if (stats) opts.onConditionStats?.(pending[index].stream, stats);
      if (compared) opts.onConditionCompared?.(pending[index].stream, divergence);
    },
  };
  const here = local.run(shareOf(own), hooks).catch((failure: unknown) => {
    if (failure instanceof ShareFailure && failure.error instanceof CacheMissError) missed(failure.index, failure.error);
    throw failure instanceof ShareFailure ? failure.error : failure;
  });
  try {
    const results = await Promise.allSettled([
      here,
      ...threads.map(
        (thread) =>
          new Promise<void>((resolve, reject) => {
            thread.on('message', (m: WorkerMessage) => {
              if (m.type === 'progress') hooks.onProgress(m.index, m.progress, m.stats);
              else if (m.type === 'condition-done') hooks.onConditionDone(m.index, m.stats, m.compared, m.divergence);
              else if (m.type === 'done') resolve();
              else if (m.cacheMiss && m.index !== null) {
                const error = new CacheMissError(m.message, m.cacheMiss);
                missed(m.index, error);
                reject(error);
              } else reject(m.exitCode === 130 ? new InterruptedError(m.round ?? 0, m.stream ?? undefined) : new SimError(`condition worker: ${m.message}`));
            });
            thread.on('error', reject);
            thread.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`condition worker exited with code ${code}`))));
          }),
      ),
    ]);
    const miss = firstMiss as { index: number; error: CacheMissError } | null;
    if (miss) throw miss.error;
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    // A worker listens for "abort" until told otherwise: end them, or the process never exits.
    await Promise.all(threads.map((t) => t.terminate()));
  }
}
