import { parentPort, workerData } from 'node:worker_threads';
import type { Provider } from '../domain/decision.js';
import { OfflineProvider, offlineParameters } from '../domain/offline-model.js';
import { CacheMissError, InterruptedError } from '../errors.js';
import { streamId } from '../events/stream-ids.js';
import { streamDivergence } from './compare.js';
import { runConditions } from './engine.js';
import { EventStore } from './store.js';
import type { MainMessage, WorkerJob, WorkerMessage } from './workers.js';

/**
 * Runs some of a run's conditions in a worker thread, on its own connection to the same store.
 * Each condition is its own stream forked from the same warmup state, so which thread runs it (and
 * when) changes nothing in the recorded events. Each condition gets a provider of its own (the
 * offline model, or answers from the LLM cache only), so its statistics can be added up in the
 * conditions' order whatever the threads' timing.
 */
const job = workerData as WorkerJob;
const abort = new AbortController();
/** Conditions after this index are not run (a cache miss at it decides the run's error). */
let limit = Infinity;
let current: { index: number; abort: AbortController } | null = null;
const post = (message: WorkerMessage) => parentPort!.postMessage(message);
parentPort!.on('message', (message: MainMessage) => {
  if (message.type === 'abort') abort.abort();
  else if (message.type === 'stop-after') {
    limit = Math.min(limit, message.index);
    if (current && current.index > limit) current.abort.abort();
  }
});

const store = await EventStore.at(job.store.location, { writeLock: job.store.writeLock });
const cache = job.provider.kind === 'cache-only' ? await EventStore.at(job.provider.cache.location, { writeLock: job.provider.cache.writeLock }) : null;
const recording = job.compareWith ? (cache && job.provider.kind === 'cache-only' && job.compareWith.store.location === job.provider.cache.location ? cache : await EventStore.at(job.compareWith.store.location, { writeLock: job.compareWith.store.writeLock })) : null;
const recordedStreams = recording && job.compareWith ? new Map((await recording.runStreams(job.compareWith.runId)).map((s) => [s.name, s.streamId])) : null;

async function providerFor(): Promise<Provider> {
  if (!cache) return new OfflineProvider(offlineParameters(job.config.offline_params));
  const [{ OpenAiProvider }, { LlmCache }] = await Promise.all([import('../llm/openai-provider.js'), import('../llm/cache.js')]);
  // Cache-only: the endpoint is never called (a miss is a CacheMissError), so it names none.
  return new OpenAiProvider({ endpoints: [{ url: 'http://cache-only.invalid/v1', apiKey: 'cache-only', models: null, maxConcurrency: 1, weight: 1 }], cache: new LlmCache(cache), cacheOnly: true, prices: job.config.llm.prices });
}

let failedAt: number | null = null;
try {
  for (const { index, condition } of job.conditions) {
    if (index > limit) continue;
    failedAt = index;
    const mine = new AbortController();
    const follow = () => mine.abort();
    abort.signal.addEventListener('abort', follow);
    if (abort.signal.aborted) mine.abort();
    current = { index, abort: mine };
    const provider = await providerFor();
    try {
      const stats = () => provider.stats?.() ?? null;
      await runConditions(
        { store, provider, config: job.config, runId: job.runId, population: null, signal: mine.signal, onProgress: (p) => post({ type: 'progress', index, progress: p, stats: stats() }) },
        [condition],
        job.warmupId,
        job.warmupEnd,
      );
      // An exact replay compares the stream here, in parallel, rather than all at the end.
      const divergence = recording && recordedStreams ? await streamDivergence(recording, recordedStreams.get(condition.stream) ?? null, store, streamId(job.runId, condition.stream), condition.stream) : null;
      post({ type: 'condition-done', index, stats: stats(), compared: recording !== null, divergence });
    } catch (error) {
      // Stopped because an earlier condition missed the cache: that miss is the run's error.
      if (!(error instanceof InterruptedError && index > limit && !abort.signal.aborted)) throw error;
    } finally {
      current = null;
      abort.signal.removeEventListener('abort', follow);
      await provider.close?.();
    }
  }
  post({ type: 'done' });
} catch (error) {
  const e = error as Error & { exitCode?: number; round?: number; stream?: string };
  const cacheMiss = error instanceof CacheMissError ? error.request : null;
  post({ type: 'error', index: failedAt, name: e.name, message: e.message, exitCode: e.exitCode ?? 1, round: e.round ?? null, stream: e.stream ?? null, cacheMiss });
} finally {
  if (recording && recording !== cache) await recording.close();
  await cache?.close();
  await store.close();
}
