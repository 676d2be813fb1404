import type { ConditionRun, ExperimentConfig } from '../domain/config.js';
import type { World } from '../domain/world.js';
import type { StoreHandoff } from '../events/port.js';
import { InterruptedError, SimError } from '../errors.js';
import type { EngineOptions, ProgressEvent } from './engine-types.js';

export interface WorkerJob {
  store: StoreHandoff;
  runId: number;
  config: ExperimentConfig;
  conditions: ConditionRun[];
  warmupId: string;
  warmupEnd: World;
}

export type WorkerMessage =
  | { type: 'progress'; progress: ProgressEvent }
  | { type: 'done' }
  | { type: 'error'; name: string; message: string; exitCode: number; round: number | null; stream: string | null };

/**
 * A worker's old-generation cap. V8 lets garbage pile up far beyond the live set when the cap is
 * high (each thread is its own heap); a cap sized to the population keeps the run's memory
 * proportional to what it holds (about 6 MB of live state per 1,000 agents, with ample margin here).
 */
export function workerHeapMb(nUsers: number): number {
  return Math.min(16_384, Math.round(384 + nUsers * 0.04));
}

/** Deals the conditions round-robin to worker threads and waits for all of them. */
export async function runInWorkers(opts: EngineOptions, pending: ConditionRun[], warmupId: string, warmupEnd: World, n: number): Promise<void> {
  const { Worker } = await import('node:worker_threads');
  const shares = Array.from({ length: n }, (_, i) => pending.filter((_, j) => j % n === i));
  const handoff = opts.store.handoff();
  const threads = shares.map((conditions) => {
    const job: WorkerJob = { store: handoff, runId: opts.runId, config: opts.config, conditions, warmupId, warmupEnd };
    return new Worker(new URL('./condition-worker.js', import.meta.url), { workerData: job, resourceLimits: { maxOldGenerationSizeMb: workerHeapMb(opts.config.n_users) } });
  });
  const onAbort = () => threads.forEach((t) => t.postMessage({ type: 'abort' }));
  opts.signal?.addEventListener('abort', onAbort);
  // Aborted while the threads were being created: the listener above would never fire.
  if (opts.signal?.aborted) onAbort();
  try {
    const results = await Promise.allSettled(
      threads.map(
        (thread) =>
          new Promise<void>((resolve, reject) => {
            thread.on('message', (m: WorkerMessage) => {
              if (m.type === 'progress') opts.onProgress?.(m.progress);
              else if (m.type === 'done') resolve();
              else reject(m.exitCode === 130 ? new InterruptedError(m.round ?? 0, m.stream ?? undefined) : new SimError(`condition worker: ${m.message}`));
            });
            thread.on('error', reject);
            thread.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`condition worker exited with code ${code}`))));
          }),
      ),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    // A worker listens for "abort" until told otherwise: end them, or the process never exits.
    await Promise.all(threads.map((t) => t.terminate()));
  }
}

