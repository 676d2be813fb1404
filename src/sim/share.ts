import type { ConditionRun, ExperimentConfig } from '../domain/config.js';
import type { Provider, ProviderStats } from '../domain/decision.js';
import { OfflineProvider, offlineParameters } from '../domain/offline-model.js';
import type { World } from '../domain/world.js';
import type { StoreHandoff } from '../events/port.js';
import { streamId } from '../events/stream-ids.js';
import { InterruptedError } from '../errors.js';
import { streamDivergence, type Divergence } from './compare.js';
import type { ProgressEvent, ThreadProvider } from './engine-types.js';
import { runCondition } from './stages.js';
import { EventStore } from './store.js';

/** A thread's share of a run's pending conditions, with their indexes among them (./deal.ts). */
export type Share = Array<{ index: number; condition: ConditionRun }>;

export interface ShareJob {
  runId: number;
  config: ExperimentConfig;
  warmupId: string;
  warmupEnd: World;
  provider: ThreadProvider;
  /** Compare each condition, once run, with the stream of the same name in this recorded run. */
  compareWith: { store: StoreHandoff; runId: number } | null;
}

export interface ShareHooks {
  onProgress(index: number, progress: ProgressEvent, stats: ProviderStats | null): void;
  onConditionDone(index: number, stats: ProviderStats | null, compared: boolean, divergence: Divergence | null): void;
}

/** A share that failed: the error, and the condition (its index) it failed in. */
export class ShareFailure extends Error {
  constructor(
    readonly index: number,
    readonly error: unknown,
  ) {
    super(error instanceof Error ? error.message : String(error));
  }
}

/**
 * Runs one thread's share of the conditions (in a worker thread, or on the main thread beside the
 * workers), each condition with a provider of its own (the offline model, or answers from the LLM
 * cache only), so its statistics can be added up in the conditions' order whatever the threads'
 * timing. `stopAfter(i)` drops the conditions after index i (a cache miss at i already decides the
 * run's error) and stops the one running if it comes after i.
 */
export class ShareRunner {
  private limit = Infinity;
  private current: { index: number; abort: AbortController } | null = null;
  private cache: EventStore | null = null;
  private recording: { store: EventStore; streams: Map<string, string> } | null = null;

  constructor(
    private readonly job: ShareJob,
    private readonly store: EventStore,
    /** Stops everything (Ctrl-C). */
    private readonly signal: AbortSignal | undefined,
    /** The offline provider to use as it is (the main thread's own), instead of a new one per condition. */
    private readonly offline: Provider | null = null,
  ) {}

  stopAfter(index: number): void {
    this.limit = Math.min(this.limit, index);
    if (this.current && this.current.index > this.limit) this.current.abort.abort();
  }

  async run(share: Share, hooks: ShareHooks): Promise<void> {
    const { job } = this;
    try {
      if (job.provider.kind === 'cache-only') this.cache = await EventStore.at(job.provider.cache.location, { writeLock: job.provider.cache.writeLock });
      if (job.compareWith) {
        const same = this.cache && job.provider.kind === 'cache-only' && job.compareWith.store.location === job.provider.cache.location;
        const store = same ? this.cache! : await EventStore.at(job.compareWith.store.location, { writeLock: job.compareWith.store.writeLock });
        this.recording = { store, streams: new Map((await store.runStreams(job.compareWith.runId)).map((s) => [s.name, s.streamId])) };
      }
      for (const { index, condition } of share) {
        if (index > this.limit) continue;
        await this.runOne(index, condition, hooks);
      }
    } finally {
      if (this.recording && this.recording.store !== this.cache) await this.recording.store.close();
      await this.cache?.close();
    }
  }

  private async runOne(index: number, condition: ConditionRun, hooks: ShareHooks): Promise<void> {
    const { job } = this;
    const mine = new AbortController();
    const follow = () => mine.abort();
    this.signal?.addEventListener('abort', follow);
    if (this.signal?.aborted) mine.abort();
    this.current = { index, abort: mine };
    const own = this.offline === null;
    let provider: Provider | null = null;
    try {
      provider = this.offline ?? (await this.providerFor());
      const stats = () => provider!.stats?.() ?? null;
      const opts = { store: this.store, provider, config: job.config, runId: job.runId, population: null, signal: mine.signal, onProgress: (p: ProgressEvent) => hooks.onProgress(index, p, stats()) };
      await runCondition(opts, condition, job.warmupId, job.warmupEnd);
      // An exact replay compares the stream here, in parallel, rather than all at the end.
      const r = this.recording;
      const divergence = r ? await streamDivergence(r.store, r.streams.get(condition.stream) ?? null, this.store, streamId(job.runId, condition.stream), condition.stream) : null;
      hooks.onConditionDone(index, stats(), r !== null, divergence);
    } catch (error) {
      // Stopped because an earlier condition missed the cache: that miss is the run's error.
      if (error instanceof InterruptedError && index > this.limit && !this.signal?.aborted) return;
      throw new ShareFailure(index, error);
    } finally {
      this.current = null;
      this.signal?.removeEventListener('abort', follow);
      if (own) await provider?.close?.();
    }
  }

  private async providerFor(): Promise<Provider> {
    if (!this.cache) return new OfflineProvider(offlineParameters(this.job.config.offline_params));
    const [{ OpenAiProvider }, { LlmCache }] = await Promise.all([import('../llm/openai-provider.js'), import('../llm/cache.js')]);
    // Cache-only: the endpoint is never called (a miss is a CacheMissError), so it names none.
    return new OpenAiProvider({ endpoints: [{ url: 'http://cache-only.invalid/v1', apiKey: 'cache-only', models: null, maxConcurrency: 1, weight: 1 }], cache: new LlmCache(this.cache), cacheOnly: true, prices: this.job.config.llm.prices });
  }
}
