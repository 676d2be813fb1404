import { connect } from 'node:net';
import type { ExperimentConfig } from '../domain/config.js';
import { LlmUnavailableError, UsageError } from '../errors.js';
import { findApiKey, loadApiKey, noKeyReason } from '../llm/api-key.js';
import type { LlmCache } from '../llm/cache.js';
import { displayUrl, type EndpointSpec, type SharedEndpointPools } from '../llm/endpoint-pool.js';
import { OpenAiProvider } from '../llm/openai-provider.js';
import { DEFAULT_MAX_FALLBACK_RATE } from '../sim/fallback-budget.js';

/**
 * The LLM serving options shared by run, resume and replay. Where requests go (endpoints) and how long
 * an outage may last are not part of a run's identity, so every command that calls a server takes
 * them; models and sampling settings are in the recorded config and never change on resume.
 */
export interface LlmFlags {
  baseUrl?: string[];
  maxOutage?: number;
  maxFallbackRate?: number;
}

const DEFAULT_OPENAI_URL = 'https://api.openai.com/v1';

export function maxFallbackRate(flags: LlmFlags): number {
  return flags.maxFallbackRate ?? DEFAULT_MAX_FALLBACK_RATE;
}

/** What run.ts records: one --base-url in base_url (as before), several in llm.endpoints. */
export function recordBaseUrls(config: ExperimentConfig, urls: string[]): void {
  if (urls.length === 1) {
    config.base_url = urls[0];
    config.llm.endpoints = [];
  } else if (urls.length > 1) {
    config.base_url = null;
    config.llm.endpoints = urls.map((url) => ({ url }));
  }
}

/**
 * The endpoints to call: --base-url flags, else the config's llm.endpoints, else its base_url, else
 * api.openai.com. Keys come from each endpoint's api_key_env, else the default key.
 */
export function endpointSpecs(config: ExperimentConfig, flags: LlmFlags, defaultKey: string | null, concurrency: number, env: NodeJS.ProcessEnv = process.env): EndpointSpec[] {
  const keyOr = (name?: string): string => {
    if (name) {
      const key = env[name];
      if (!key) throw new UsageError(`llm.endpoints: the environment variable ${name} (api_key_env) is not set`);
      return key;
    }
    if (!defaultKey) throw new UsageError(`--provider openai: ${noKeyReason(findApiKey(env, process.cwd()))} (set OPENAI_API_KEY, or \`cp OPENAI_API_KEY.env.example OPENAI_API_KEY.env\` and put it there)`);
    return defaultKey;
  };
  if (flags.baseUrl && flags.baseUrl.length > 0) {
    return flags.baseUrl.map((url) => ({ url, apiKey: keyOr(), models: null, maxConcurrency: concurrency, weight: 1 }));
  }
  if (config.llm.endpoints.length > 0) {
    return config.llm.endpoints.map((e) => ({ url: e.url, apiKey: keyOr(e.api_key_env), models: e.models ?? null, maxConcurrency: e.max_concurrency ?? concurrency, weight: e.weight ?? 1 }));
  }
  return [{ url: config.base_url ?? DEFAULT_OPENAI_URL, apiKey: keyOr(), models: null, maxConcurrency: concurrency, weight: 1 }];
}

export interface LlmProviderChoice {
  cache: LlmCache;
  cacheOnly?: boolean;
  concurrency?: number;
  llm?: LlmFlags;
  /** The process's endpoint pools, shared with other providers (`sim worker`'s jobs); default: a pool of its own. */
  pools?: SharedEndpointPools;
}

const REQUEST_TIMEOUT_MS = 60_000;

export function openAiProvider(config: ExperimentConfig, choice: LlmProviderChoice): OpenAiProvider {
  const apiKey = loadApiKey(process.env, process.cwd()) ?? (choice.cacheOnly ? 'cache-only-replay' : null);
  const endpoints = endpointSpecs(config, choice.llm ?? {}, apiKey, choice.concurrency ?? 32);
  return new OpenAiProvider({
    endpoints,
    timeoutMs: REQUEST_TIMEOUT_MS,
    sharedPool: choice.pools && !choice.cacheOnly ? choice.pools.get(endpoints, REQUEST_TIMEOUT_MS) : undefined,
    cache: choice.cache,
    cacheOnly: choice.cacheOnly,
    prices: config.llm.prices,
    maxOutageMs: choice.llm?.maxOutage,
  });
}

/**
 * Before anything is written: each endpoint must accept a connection. A server that refuses is
 * reported at once (not after minutes of retries); with several endpoints the run starts when at
 * least one is there (the others are retried by their circuit breakers), and says which are not.
 */
export async function checkEndpoints(config: ExperimentConfig, flags: LlmFlags, warn: (line: string) => void): Promise<void> {
  if (config.provider !== 'openai') return;
  const urls = flags.baseUrl?.length ? flags.baseUrl : config.llm.endpoints.length ? config.llm.endpoints.map((e) => e.url) : [config.base_url ?? DEFAULT_OPENAI_URL];
  const results = await Promise.all(urls.map(async (url) => ({ url, problem: await connectProblem(url) })));
  const down = results.filter((r) => r.problem !== null);
  if (down.length === 0) return;
  const list = down.map((r) => `${displayUrl(r.url)} (${r.problem})`).join(', ');
  if (down.length === urls.length) {
    throw new LlmUnavailableError(`cannot connect to the LLM server${urls.length > 1 ? 's' : ''}: ${list}; nothing was written (start the server, or give another with --base-url)`);
  }
  warn(`sim: warning: ${list} not reachable now; starting with the other endpoints (it is probed again later)`);
}

/** Why a TCP connection to the URL's host and port fails, or null when it opens. */
function connectProblem(url: string, timeoutMs = 5_000): Promise<string | null> {
  const u = new URL(url);
  const port = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
  const host = u.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (problem: string | null) => {
      socket.destroy();
      resolve(problem);
    };
    socket.setTimeout(timeoutMs, () => done(`no connection within ${timeoutMs / 1000}s`));
    socket.once('connect', () => done(null));
    socket.once('error', (error: NodeJS.ErrnoException) => done(error.code === 'ECONNREFUSED' ? 'connection refused' : error.code === 'ENOTFOUND' ? 'unknown host' : (error.code ?? error.message)));
  });
}
