import type { ExperimentConfig } from '../domain/config.js';
import type { Provider } from '../domain/decision.js';
import { OfflineProvider, offlineParameters } from '../domain/offline-model.js';
import { UsageError } from '../errors.js';
import type { EventStore } from '../sim/store.js';
import { findApiKey, noKeyReason } from '../llm/api-key.js';
import { LlmCache } from '../llm/cache.js';
import type { SharedEndpointPools } from '../llm/endpoint-pool.js';
import { openAiProvider, type LlmFlags } from './llm.js';

export interface ProviderChoice {
  /** The store whose cache the provider reads and writes. */
  store: EventStore;
  /** A cache miss is an error (exact replay). */
  cacheOnly?: boolean;
  concurrency?: number;
  /** Endpoints, outage and fallback limits (not part of the run's identity). */
  llm?: LlmFlags;
  /** Endpoint pools shared by the providers of this process (`sim worker --jobs N`). */
  pools?: SharedEndpointPools;
}

/** An LLM run needs a key (except a cache-only replay, which makes no request). */
export function checkProviderReady(config: ExperimentConfig, cacheOnly?: boolean): void {
  if (config.provider === 'offline' || cacheOnly) return;
  const key = findApiKey(process.env, process.cwd());
  if (!key.key) {
    throw new UsageError(`--provider openai: ${noKeyReason(key)} (set OPENAI_API_KEY, or \`cp OPENAI_API_KEY.env.example OPENAI_API_KEY.env\` and put it there)`);
  }
}

/** The provider a config names: the offline persona model, or the OpenAI-compatible client over the store's cache. */
export function chooseProvider(config: ExperimentConfig, choice: ProviderChoice): Provider {
  if (config.provider === 'offline') return new OfflineProvider(offlineParameters(config.offline_params));
  checkProviderReady(config, choice.cacheOnly);
  return openAiProvider(config, { cache: new LlmCache(choice.store), cacheOnly: choice.cacheOnly, concurrency: choice.concurrency, llm: choice.llm, pools: choice.pools });
}
