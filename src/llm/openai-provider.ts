import OpenAI from 'openai';
import type { DecisionRequest, Provider, ProviderAnswer, ProviderStats, Usage } from '../domain/decision.js';
import { validateAnswer } from '../domain/decision.js';
import { buildMessages, maxTokensFor, responseFormat, type ChatMessage } from '../domain/prompts.js';
import { CacheMissError, InterruptedError, LlmConfigurationError } from '../errors.js';
import { canonicalJson, sha256 } from '../events/canonical.js';
import { redact } from './api-key.js';
import type { LlmCache } from './cache.js';
import { costOf, type Price } from './cost.js';
import { AdaptiveLimiter } from './limiter.js';

export interface OpenAiProviderOptions {
  apiKey: string;
  /** An OpenAI-compatible endpoint (vLLM, Ollama, llama.cpp, LiteLLM...); default api.openai.com. */
  baseURL?: string;
  concurrency: number;
  cache: LlmCache;
  /** A cache miss is an error (exact replay): no HTTP request is ever made. */
  cacheOnly?: boolean;
  prices?: Record<string, Price>;
  timeoutMs?: number;
  /** Transient failures (429, 5xx, timeouts, dropped connections) retried per request. */
  maxAttempts?: number;
  /** Backoff base; tests make it small. */
  backoffMs?: number;
  /** Corrections asked for after an unusable answer (the reference asked twice). */
  corrections?: number;
  now?: () => string;
}

interface Completion {
  content: string | null;
  truncated: boolean;
  usage: Usage;
}

const ZERO: Usage = { promptTokens: 0, completionTokens: 0, cachedTokens: 0 };

/**
 * Decisions by an LLM through the official openai client. Each request is first looked up in the
 * cache by the hash of (model, messages, temperature, max tokens, response format, sample key);
 * answers are validated, corrected up to twice, and cached as soon as they are final.
 */
export class OpenAiProvider implements Provider {
  readonly name: string;
  readonly offline = false;
  private readonly client: OpenAI;
  private readonly limiter: AdaptiveLimiter;
  private textMode = false;
  private aborted = false;
  private readonly inFlight = new Set<AbortController>();
  private readonly totals: ProviderStats = { calls: 0, cacheHits: 0, retries: 0, failures: 0, promptTokens: 0, completionTokens: 0, cachedTokens: 0, costUsd: 0 };

  constructor(private readonly o: OpenAiProviderOptions) {
    this.client = new OpenAI({ apiKey: o.apiKey, baseURL: o.baseURL, maxRetries: 0, timeout: o.timeoutMs ?? 60_000 });
    this.limiter = new AdaptiveLimiter(o.concurrency);
    this.name = `OpenAI-compatible LLM at ${o.baseURL ?? 'https://api.openai.com/v1'}`;
  }

  stats(): ProviderStats {
    return { ...this.totals };
  }

  get maxInFlight(): number {
    return this.limiter.maxObserved;
  }

  /** Stops at once: requests in flight are cancelled, later ones refused (answers already cached stay). */
  abort(): void {
    this.aborted = true;
    for (const c of this.inFlight) c.abort();
  }

  /** The cache key of a request: what is sent, plus the sample key that tells draws apart. */
  cacheKey(request: DecisionRequest): string {
    return sha256(
      canonicalJson({
        model: request.model,
        messages: buildMessages(request),
        temperature: request.temperature,
        max_tokens: maxTokensFor(request),
        response_format: responseFormat(request),
        sample: request.key,
      }),
    );
  }

  async decide(request: DecisionRequest): Promise<ProviderAnswer> {
    const key = this.cacheKey(request);
    const hit = this.o.cache.lookup(key);
    if (hit) {
      this.totals.cacheHits += 1;
      return this.toAnswer(request, hit.ok, hit.raw, hit.reason, hit.usage, true);
    }
    if (this.o.cacheOnly) {
      throw new CacheMissError(`--cache-only: no cached answer for agent ${request.key.agentId}, round ${request.key.round} (${request.purpose}); the recorded run asked something else`);
    }
    if (this.aborted) throw new InterruptedError(request.key.round);

    const messages: ChatMessage[] = buildMessages(request);
    const usage: Usage = { ...ZERO };
    let raw: string | null = null;
    let reason: string | null = null;
    let ok = false;
    const corrections = this.o.corrections ?? 2;
    for (let attempt = 0; attempt <= corrections; attempt++) {
      const completion = await this.complete(request, messages);
      if ('failure' in completion) {
        reason = completion.failure;
        break;
      }
      usage.promptTokens += completion.usage.promptTokens;
      usage.completionTokens += completion.usage.completionTokens;
      usage.cachedTokens += completion.usage.cachedTokens;
      raw = completion.content;
      const problems = this.problemsWith(request, completion);
      if (problems.length === 0) {
        ok = true;
        reason = null;
        break;
      }
      reason = `${problems.join('; ')}${attempt === corrections ? ` (after ${corrections} correction${corrections === 1 ? '' : 's'})` : ''}`;
      if (attempt < corrections) {
        messages.push({ role: 'assistant', content: raw ?? '' });
        messages.push({ role: 'user', content: `That answer could not be used: ${problems.join('; ')}. Answer again with only the JSON object asked for.` });
      }
    }
    if (!ok) this.totals.failures += 1;
    this.o.cache.store(key, request.model, { ok, raw, reason, usage }, (this.o.now ?? (() => new Date().toISOString()))());
    return this.toAnswer(request, ok, raw, reason, usage, false);
  }

  private problemsWith(request: DecisionRequest, completion: Completion): string[] {
    const value = parseJsonAnswer(completion.content);
    if (value === undefined) return [completion.truncated ? 'the answer was cut off before its end (max tokens)' : 'the answer is not a JSON object'];
    const validation = validateAnswer(request, value);
    return validation.ok ? [] : validation.problems;
  }

  private toAnswer(request: DecisionRequest, ok: boolean, raw: string | null, reason: string | null, usage: Usage, cached: boolean): ProviderAnswer {
    if (!cached) {
      this.totals.promptTokens += usage.promptTokens;
      this.totals.completionTokens += usage.completionTokens;
      this.totals.cachedTokens += usage.cachedTokens;
      this.totals.costUsd += costOf(usage, this.o.prices?.[request.model]);
    }
    if (ok) return { ok: true, value: parseJsonAnswer(raw), raw: raw ?? '', cached, usage };
    return { ok: false, reason: reason ?? 'no usable answer', raw, cached, usage };
  }

  /** One completion, retrying what is transient; a failure when the server never answered usably. */
  private async complete(request: DecisionRequest, messages: ChatMessage[]): Promise<Completion | { failure: string }> {
    const maxAttempts = this.o.maxAttempts ?? 6;
    const base = this.o.backoffMs ?? 500;
    let lastError = '';
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      if (this.aborted) throw new InterruptedError(request.key.round);
      if (attempt > 0) this.totals.retries += 1;
      const controller = new AbortController();
      const withFormat = !this.textMode;
      try {
        this.totals.calls += 1;
        const response = await this.limiter.run(() => {
          this.inFlight.add(controller);
          return this.client.chat.completions.create(
            {
              model: request.model,
              messages,
              temperature: request.temperature,
              max_tokens: maxTokensFor(request),
              ...(withFormat ? { response_format: responseFormat(request) } : {}),
            },
            { signal: controller.signal },
          );
        });
        this.limiter.onSuccess();
        const choice = response.choices?.[0];
        const u = response.usage;
        return {
          content: choice?.message?.content ?? null,
          truncated: choice?.finish_reason === 'length',
          usage: { promptTokens: u?.prompt_tokens ?? 0, completionTokens: u?.completion_tokens ?? 0, cachedTokens: u?.prompt_tokens_details?.cached_tokens ?? 0 },
        };
      } catch (error) {
        if (this.aborted) throw new InterruptedError(request.key.round);
        const status = (error as { status?: number }).status;
        const message = redact(error instanceof Error ? error.message : String(error), this.o.apiKey);
        if (status === 401 || status === 403) {
          throw new LlmConfigurationError(`${this.name}: the API key was refused (HTTP ${status}); check OPENAI_API_KEY (nothing recorded was lost)`);
        }
        if (status === 404) {
          throw new LlmConfigurationError(`${this.name}: model "${request.model}" not found (HTTP 404); set the tier-to-model map in the config (llm.models) to models the server has`);
        }
        if (status === 400 && withFormat && /response_format|json_schema|structured/i.test(message)) {
          // A server without structured outputs: ask for JSON in the text from now on (requests
          // already in flight with the format come back here too, and are sent again).
          this.textMode = true;
          attempt -= 1;
          continue;
        }
        const transient = status === 429 || status === undefined || status === 408 || status >= 500;
        if (!transient) return { failure: `the server refused the request (HTTP ${status}): ${message}` };
        lastError = status === undefined ? message : `HTTP ${status}`;
        if (status === 429) this.limiter.onRateLimited();
        await sleep(status === 429 ? retryAfterMs(error) ?? backoff(base, attempt) : backoff(base, attempt));
      } finally {
        this.inFlight.delete(controller);
      }
    }
    return { failure: `no answer after ${maxAttempts} attempts (last: ${lastError})` };
  }
}

/** The JSON object in an answer: bare, in a code fence, or amid text. undefined when there is none. */
export function parseJsonAnswer(content: string | null): unknown {
  if (!content) return undefined;
  const text = content.trim().replace(/^```(?:json)?\s*/i, '').replace(/```\s*$/, '');
  for (const candidate of [text, text.slice(text.indexOf('{'), text.lastIndexOf('}') + 1)]) {
    try {
      const value = JSON.parse(candidate);
      if (value && typeof value === 'object' && !Array.isArray(value)) return value;
    } catch {
      // try the next form
    }
  }
  return undefined;
}

function retryAfterMs(error: unknown): number | null {
  const headers = (error as { headers?: Headers | Record<string, string> }).headers;
  const get = (name: string) => (headers instanceof Headers ? headers.get(name) : headers?.[name]) ?? null;
  const ms = Number(get('retry-after-ms'));
  if (Number.isFinite(ms) && ms > 0) return ms;
  const seconds = Number(get('retry-after'));
  if (Number.isFinite(seconds) && seconds >= 0 && get('retry-after') !== null) return seconds * 1000;
  return null;
}

/** Exponential backoff with jitter; jitter changes timing only, never results. */
function backoff(base: number, attempt: number): number {
  const cap = Math.min(30_000, base * 2 ** attempt);
  return cap / 2 + Math.random() * (cap / 2);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
