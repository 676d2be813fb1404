import type { CacheRow } from './port.js';
import type { LlmCacheTable } from './schema.js';

/** An llm_cache row as both stores read it (PostgreSQL returns bigint columns as strings). */
export function cacheRowOf(row: { [K in keyof LlmCacheTable]: LlmCacheTable[K] | string }): CacheRow {
  return {
    key: String(row.key),
    model: String(row.model),
    response: String(row.response),
    promptTokens: Number(row.prompt_tokens),
    completionTokens: Number(row.completion_tokens),
    cachedTokens: Number(row.cached_tokens),
    createdAt: String(row.created_at),
  };
}
