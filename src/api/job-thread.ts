import { WARMUP_STREAM, type ExperimentConfig } from '../domain/config.js';
import { SimError } from '../errors.js';
import type { StoreHandoff } from '../events/port.js';
import type { ProgressEvent } from '../sim/engine-types.js';
import { workerHeapMb } from '../sim/workers.js';
import { classifyFailure, type SliceContext, type SliceJob, type SliceOutcome } from './job-slice.js';
import type { LlmFlags } from './llm.js';

/** What a job thread is given (structured-cloned): its store, the run's config, the job and how long the slice runs. */
export interface JobThreadData {
  store: StoreHandoff;
  config: ExperimentConfig;
  job: SliceJob;
  flags: LlmFlags;
  sliceMs: number;
}

/** What a job thread tells the main thread; `outcome` is its last message, sent after its store is closed. */
export type JobThreadMessage = { type: 'started'; fromRound: number | null; thread: number } | { type: 'progress'; progress: ProgressEvent } | { type: 'outcome'; outcome: SliceOutcome };

/** What the main thread tells a job thread: stop at the next round boundary (Ctrl-C, SIGTERM). */
export type MainToJobThread = { type: 'stop' };

/** How a job thread's connections name themselves to PostgreSQL (`application_name`, seen in pg_stat_activity). */
export const JOB_THREAD_APPLICATION = 'sim job thread';

/** The store handed to a job thread: a PostgreSQL URL gains the job threads' application_name (unless it names one). */
export function jobThreadStore(store: StoreHandoff): StoreHandoff {
  if (!/^postgres(ql)?:/i.test(store.location)) return store;
  const url = new URL(store.location);
  if (url.searchParams.has('application_name')) return store;
  url.searchParams.set('application_name', JOB_THREAD_APPLICATION);
  return { ...store, location: url.toString() };
}

/**
 * Runs an offline job's slice in a worker thread of its own (./job-worker.ts), which opens its own
 * connection to the store and closes it before it reports. Resolves with the slice's outcome, never
 * rejects: a thread that dies without reporting (out of memory, a crash) is a transient failure, so
 * the job is retried. The thread is always ended before this returns, so none outlives its job (a
 * live thread would keep the process from exiting). A stop is passed on to the thread, which ends
 * its round and reports `interrupted`.
 */
export async function runSliceInThread(store: StoreHandoff, config: ExperimentConfig, job: SliceJob, flags: LlmFlags, context: SliceContext): Promise<SliceOutcome> {
  const { Worker } = await import('node:worker_threads');
  const data: JobThreadData = { store: jobThreadStore(store), config, job, flags: { maxFallbackRate: flags.maxFallbackRate }, sliceMs: context.sliceMs };
  // A condition's thread gets the old-generation cap of `sim run`'s condition threads; a warmup's
  // first slice parses the population files, so it keeps V8's default.
  const resourceLimits = job.stream === WARMUP_STREAM ? undefined : { maxOldGenerationSizeMb: workerHeapMb(config.n_users) };
  const thread = new Worker(new URL('./job-worker.js', import.meta.url), { workerData: data, resourceLimits });
  const stop = () => thread.postMessage({ type: 'stop' } satisfies MainToJobThread);
  context.stop.addEventListener('abort', stop, { once: true });
  // Aborted while the thread was being created: the listener above would never fire.
  if (context.stop.aborted) stop();
  let noted: Promise<void> = Promise.resolve();
  try {
    return await new Promise<SliceOutcome>((resolve) => {
      let failure: unknown = null;
      thread.on('message', (m: JobThreadMessage) => {
        // Noting where the job started is for `sim status` only; a lost connection shows at the job's completion.
        if (m.type === 'started') noted = Promise.resolve(context.started(m.fromRound, m.thread)).catch(() => undefined);
        else if (m.type === 'progress') context.onProgress(m.progress);
        else resolve(m.outcome);
      });
      thread.on('error', (error) => (failure = error));
      thread.on('exit', (code) => resolve(classifyFailure(failure ?? new SimError(`the job thread exited (code ${code}) without reporting how the job went`), false)));
    });
  } finally {
    context.stop.removeEventListener('abort', stop);
    await noted;
    await thread.terminate();
  }
}
