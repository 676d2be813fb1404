import { parentPort, workerData } from 'node:worker_threads';
import { CacheMissError } from '../errors.js';
import { ShareFailure, ShareRunner } from './share.js';
import { EventStore } from './store.js';
import type { MainMessage, WorkerJob, WorkerMessage } from './workers.js';

/**
 * Runs some of a run's conditions in a worker thread, on its own connection to the same store
 * (./share.ts). Each condition is its own stream forked from the same warmup state, so which thread
 * runs it (and when) changes nothing in the recorded events.
 */
const job = workerData as WorkerJob;
const abort = new AbortController();
const post = (message: WorkerMessage) => parentPort!.postMessage(message);
const store = await EventStore.at(job.store.location, { writeLock: job.store.writeLock });
const runner = new ShareRunner(job, store, abort.signal);
parentPort!.on('message', (message: MainMessage) => {
  if (message.type === 'abort') abort.abort();
  else if (message.type === 'stop-after') runner.stopAfter(message.index);
});

try {
  await runner.run(job.conditions, {
    onProgress: (index, progress, stats) => post({ type: 'progress', index, progress, stats }),
    onConditionDone: (index, stats, compared, divergence) => post({ type: 'condition-done', index, stats, compared, divergence }),
  });
  post({ type: 'done' });
} catch (failure) {
  const index = failure instanceof ShareFailure ? failure.index : null;
  const error = failure instanceof ShareFailure ? failure.error : failure;
  const e = error as Error & { exitCode?: number; round?: number; stream?: string };
  const cacheMiss = error instanceof CacheMissError ? error.request : null;
  post({ type: 'error', index, name: e.name, message: e.message, exitCode: e.exitCode ?? 1, round: e.round ?? null, stream: e.stream ?? null, cacheMiss });
} finally {
  await store.close();
}
