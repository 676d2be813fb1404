import { parentPort, workerData } from 'node:worker_threads';
import { OfflineProvider, offlineParameters } from '../domain/offline-model.js';
import { runConditions } from './engine.js';
import { EventStore } from './store.js';
import type { WorkerJob, WorkerMessage } from './workers.js';

/**
 * Runs some of a run's conditions in a worker thread, on its own connection to the same store.
 * Each condition is its own stream forked from the same warmup state, so which thread runs it (and
 * when) changes nothing in the recorded events.
 */
const job = workerData as WorkerJob;
const abort = new AbortController();
const post = (message: WorkerMessage) => parentPort!.postMessage(message);
parentPort!.on('message', (message: { type: string }) => {
  if (message.type === 'abort') abort.abort();
});

const store = await EventStore.at(job.store.location, { writeLock: job.store.writeLock });
try {
  await runConditions(
    { store, provider: new OfflineProvider(offlineParameters(job.config.offline_params)), config: job.config, runId: job.runId, population: null, signal: abort.signal, onProgress: (p) => post({ type: 'progress', progress: p }) },
    job.conditions,
    job.warmupId,
    job.warmupEnd,
  );
  post({ type: 'done' });
} catch (error) {
  const e = error as Error & { exitCode?: number; round?: number; stream?: string };
  post({ type: 'error', name: e.name, message: e.message, exitCode: e.exitCode ?? 1, round: e.round ?? null, stream: e.stream ?? null });
} finally {
  await store.close();
}
