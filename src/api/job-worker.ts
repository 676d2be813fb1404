import { parentPort, threadId, workerData } from 'node:worker_threads';
import { EventStore } from '../sim/store.js';
import { classifyFailure, runSlice, type SliceOutcome } from './job-slice.js';
import type { JobThreadData, JobThreadMessage, MainToJobThread } from './job-thread.js';

/**
 * A job thread of `sim worker` (./job-thread.ts): executes one offline job's slice on a store
 * connection of its own, and closes that connection before it reports the outcome, so the main
 * thread (which alone speaks to the queue) can end the thread as soon as it has the outcome.
 */
const data = workerData as JobThreadData;
const stop = new AbortController();
const post = (message: JobThreadMessage) => parentPort!.postMessage(message);
parentPort!.on('message', (message: MainToJobThread) => {
  if (message.type === 'stop') stop.abort();
});

let outcome: SliceOutcome;
let store: EventStore | null = null;
try {
  store = await EventStore.at(data.store.location, { writeLock: data.store.writeLock });
  outcome = await runSlice(store, data.config, data.job, data.flags, {
    stop: stop.signal,
    sliceMs: data.sliceMs,
    started: (fromRound) => post({ type: 'started', fromRound, thread: threadId }),
    onProgress: (progress) => post({ type: 'progress', progress }),
  });
} catch (error) {
  // The store could not be opened (or the slice threw past its own handling).
  outcome = classifyFailure(error, stop.signal.aborted);
} finally {
  await store?.close().catch(() => undefined);
}
// The main thread ends this thread once it has the outcome (the port's listener keeps it alive until then).
post({ type: 'outcome', outcome });
