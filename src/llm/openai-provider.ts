import type { DecisionRequest, Provider, ProviderAnswer, ProviderStats, Usage } from '../domain/decision.js';
import { validateAnswer } from '../domain/decision.js';
import { buildMessages, maxTokensFor, responseFormat, type ChatMessage } from '../domain/prompts.js';
import { CacheMissError, InterruptedError, LlmConfigurationError, LlmUnavailableError } from '../errors.js';
import { canonicalJson, sha256 } from '../events/canonical.js';
import { redact } from './api-key.js';
import type { LlmCache } from './cache.js';
import { costOf, type Price } from './cost.js';
import { EndpointPool, type BreakerOptions, type EndpointSpec, type EndpointStats } from './endpoint-pool.js';

export interface OpenAiProviderOptions {
  /** The servers (vLLM, Ollama, llama.cpp, LiteLLM, api.openai.com...); at least one. */
  endpoints: EndpointSpec[];
  cache: LlmCache;
  /** A cache miss is an error (exact replay): no HTTP request is ever made. */
  cacheOnly?: boolean;
  prices?: Record<string, Price>;
  timeoutMs?: number;
  /**
   * How long the run may go without any answer from any endpoint before it stops with
   * LlmUnavailableError (default 10 minutes). Until then a request without an answer is retried.
   */
  maxOutageMs?: number;
  /** Backoff base; tests make it small. */
  backoffMs?: number;
  /** Corrections asked for after an unusable answer (the reference asked twice). */
  corrections?: number;
  breaker?: BreakerOptions;
  now?: () => string;
  /**
   * The endpoints' pool shared with other providers of this process (their requests share its limits);
   * the provider neither fails it for the others nor closes it. Default: a pool of its own.
   */
  sharedPool?: EndpointPool;
}

interface Completion {
  content: string | null;
  truncated: boolean;
  usage: Usage;
}

const ZERO: Usage = { promptTokens: 0, completionTokens: 0, cachedTokens: 0 };
const DEFAULT_MAX_OUTAGE_MS = 10 * 60_000;

export interface OpenAiStats extends ProviderStats {
  /** Cached rows of requests that never got an answer (stored by older versions): asked again, or, in a cache-only replay, used and named. */
  unanswered: number;
  unansweredExamples: string[];
  endpoints: EndpointStats[];
}

/** Room for corrections in a cost bound: an unusable answer is asked again, twice at most. */
const COST_BOUND_MARGIN = 1.5;

/**
 * Decisions by an LLM through the official openai client. Each request is first looked up in the
 * cache by the hash of (model, messages, temperature, max tokens, response format, sample key), which
 * names no endpoint; answers are validated, corrected up to twice, and cached as soon as they are
 * final. Only what a server answered is cached or becomes a fallback: a request that gets no answer
 * (refused, dropped, timed out, 5xx) is retried, on any endpoint serving its model, until the outage
 * lasts longer than maxOutageMs; then every request fails with LlmUnavailableError.
 */
export class OpenAiProvider implements Provider {
  readonly name: string;
  readonly offline = false;
  private readonly pool: EndpointPool;
  private stopped: Error | null = null;
  private readonly stopListeners = new Set<() => void>();
  private readonly inFlight = new Set<AbortController>();
  /** When the current outage began (first failure since the last answer from any endpoint). */
  private outageSince: number | null = null;
  private outageTimer: NodeJS.Timeout | null = null;
  private lastTransportError = '';
  private readonly totals = { calls: 0, cacheHits: 0, retries: 0, failures: 0, promptTokens: 0, completionTokens: 0, cachedTokens: 0, costUsd: 0, unanswered: 0 };
  private readonly unansweredExamples: string[] = [];
  private readonly formats = new Map<string, string>();
  /** Answers paid for by this provider and their completion tokens, by purpose (for costBound). */
  private readonly completions = new Map<DecisionRequest['purpose'], { calls: number; tokens: number }>();

  constructor(private readonly o: OpenAiProviderOptions) {
    this.pool = o.sharedPool ?? new EndpointPool(o.endpoints, o.timeoutMs ?? 60_000, o.breaker);
    const labels = this.pool.endpoints.map((e) => e.label);
    this.name = labels.length === 1 ? `OpenAI-compatible LLM at ${labels[0]}` : `OpenAI-compatible LLM at ${labels.length} endpoints (${labels.join(', ')})`;
  }

  stats(): OpenAiStats {
    return { ...this.totals, unansweredExamples: [...this.unansweredExamples], endpoints: this.o.cacheOnly ? [] : this.pool.stats() };
  }

  get maxInFlight(): number {
    return this.pool.maxObserved;
  }

  /** Stops at once: requests in flight are cancelled, later ones refused (answers already cached stay). */
  abort(): void {
    this.stop(new InterruptedError(0));
  }

  /** Writes the answers waiting for the cache's next batch now (before their round is appended). */
  async persist(): Promise<void> {
    await this.o.cache.flush();
  }

  async close(): Promise<void> {
    // Requests still running (a run that failed) end here rather than open new connections.
    this.stop(new InterruptedError(0));
    if (this.outageTimer) clearTimeout(this.outageTimer);
    this.outageTimer = null;
    if (!this.o.sharedPool) this.pool.close();
    await this.o.cache.flush();
  }

  /**
   * The cache key of a request: what is sent, plus the sample key that tells draws apart. It is the
   * sha256 of canonicalJson({ model, messages, temperature, max_tokens, response_format, sample }),
   * written here directly in that form's sorted key order (max_tokens, messages, model,
   * response_format, sample, temperature): a replay computes one key per decision, and the generic
   * walk over the response format's schema object, built afresh for every request, was most of it.
   * The same bytes, so every recorded key still matches (src/llm/openai-provider.test.ts checks it).
   */
  cacheKey(request: DecisionRequest, messages: ChatMessage[] = buildMessages(request)): string {
    let text = `{"max_tokens":${canonicalJson(maxTokensFor(request))},"messages":[`;
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i];
      text += `${i > 0 ? ',' : ''}{"content":${JSON.stringify(m.content)},"role":${JSON.stringify(m.role)}}`;
    }
    text += `],"model":${JSON.stringify(request.model)},"response_format":${this.formatText(request)},"sample":${canonicalJson(request.key)},"temperature":${canonicalJson(request.temperature)}}`;
    return sha256(text);
  }

  /** canonicalJson(responseFormat(request)), once per shape of request (it depends on nothing else). */
  private formatText(request: DecisionRequest): string {
    const shape = request.purpose === 'turn' ? `turn${request.invitePost ? '+post' : ''}${request.election ? '+election' : ''}` : request.purpose;
    let text = this.formats.get(shape);
    if (text === undefined) this.formats.set(shape, (text = canonicalJson(responseFormat(request))));
    return text;
  }

  /**
   * An upper estimate of what deciding `requests` would spend now, at the config's prices: each
   * request the cache does not answer counts its prompt at 3 characters a token (English text and
   * JSON run nearer 4) and the most tokens its answer may have, times 1.5 for corrections of
   * unusable answers. Used to stop before a round would pass the spending cap (src/api/spend.ts).
   */
  async costBound(requests: readonly DecisionRequest[]): Promise<number> {
    const priced = requests.flatMap((request) => {
      const price = this.o.prices?.[request.model];
      if (!price || (price.input === 0 && price.output === 0)) return [];
      const messages = buildMessages(request);
      let chars = 0;
      for (const m of messages) chars += m.content.length;
      const cost = (COST_BOUND_MARGIN * (Math.ceil(chars / 3) * price.input + this.completionBound(request) * price.output)) / 1e6;
      return [{ key: this.cacheKey(request, messages), cost }];
    });
    // The lookups start in one turn of the event loop: one query for the batch.
    const hits = await Promise.all(priced.map((p) => this.o.cache.lookup(p.key)));
    let total = 0;
    priced.forEach((p, i) => {
      const hit = hits[i];
      if (!hit || hit.unanswered) total += p.cost;
    });
    return total;
  }

  /**
   * The completion tokens a request's answer is counted at in a cost bound: the most it may have
   * (max_tokens), or, once 20 answers of its kind were paid for, twice their mean if that is less.
   */
  private completionBound(request: DecisionRequest): number {
    const most = maxTokensFor(request);
    const seen = this.completions.get(request.purpose);
    return seen && seen.calls >= 20 ? Math.min(most, Math.ceil((2 * seen.tokens) / seen.calls)) : most;
  }

  async decide(request: DecisionRequest): Promise<ProviderAnswer> {
    // Rendered once: the key hashes the messages that are sent.
    const messages: ChatMessage[] = buildMessages(request);
    const key = this.cacheKey(request, messages);
    const hit = await this.o.cache.lookup(key);
    if (hit && hit.unanswered) {
      // An older version cached "no answer" like an answer. It is not one: ask again, or, when
      // replaying exactly, reproduce the recorded fallback and say so.
      this.totals.unanswered += 1;
      if (this.o.cacheOnly) {
        if (this.unansweredExamples.length < 5) this.unansweredExamples.push(`agent ${request.key.agentId} round ${request.key.round} (${request.purpose})`);
        this.totals.cacheHits += 1;
        return this.toAnswer(request, hit.ok, hit.raw, hit.reason, hit.usage, true);
      }
    } else if (hit) {
      this.totals.cacheHits += 1;
      return this.toAnswer(request, hit.ok, hit.raw, hit.reason, hit.usage, true);
    }
    if (this.o.cacheOnly) {
      throw new CacheMissError(`--cache-only: no cached answer for agent ${request.key.agentId}, round ${request.key.round} (${request.purpose}); the recorded run asked something else`, { agentId: request.key.agentId, round: request.key.round, purpose: request.purpose });
    }
    if (this.stopped) throw this.stoppedFor(request);
    // Processes sharing the store ask a request once: another one may be asking it right now.
    const answered = await this.o.cache.claim(key, () => (this.stopped ? this.stoppedFor(request) : null));
    if (answered) {
      this.totals.cacheHits += 1;
      return this.toAnswer(request, answered.ok, answered.raw, answered.reason, answered.usage, true);
    }
    try {
      return await this.ask(request, key, messages);
    } catch (error) {
      await this.o.cache.abandon(key);
      throw error;
    }
  }

  private async ask(request: DecisionRequest, key: string, messages: ChatMessage[]): Promise<ProviderAnswer> {
    const usage: Usage = { ...ZERO };
    let raw: string | null = null;
    let reason: string | null = null;
    let ok = false;
    const corrections = this.o.corrections ?? 2;
    for (let attempt = 0; attempt <= corrections; attempt++) {
      const completion = await this.complete(request, messages);
      if ('refused' in completion) {
        reason = completion.refused;
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
      const seen = this.completions.get(request.purpose) ?? { calls: 0, tokens: 0 };
      this.completions.set(request.purpose, { calls: seen.calls + 1, tokens: seen.tokens + usage.completionTokens });
      this.totals.promptTokens += usage.promptTokens;
      this.totals.completionTokens += usage.completionTokens;
      this.totals.cachedTokens += usage.cachedTokens;
      this.totals.costUsd += costOf(usage, this.o.prices?.[request.model]);
    }
    if (ok) return { ok: true, value: parseJsonAnswer(raw), raw: raw ?? '', cached, usage };
    return { ok: false, reason: reason ?? 'no usable answer', raw, cached, usage };
  }

  /**
   * One completion. What got no answer is retried without a cap on attempts (the outage clock is
   * the cap); a request the server refused on its merits (HTTP 4xx) is returned as a refusal.
   */
  private async complete(request: DecisionRequest, messages: ChatMessage[]): Promise<Completion | { refused: string }> {
    const base = this.o.backoffMs ?? 500;
    for (let attempt = 0; ; attempt++) {
      if (this.stopped) throw this.stoppedFor(request);
      if (attempt > 0) this.totals.retries += 1;
      const endpoint = await this.pool.acquire(request.model, this).catch((error: Error) => {
        throw error === this.stopped ? this.stoppedFor(request) : new LlmConfigurationError(error.message);
      });
      const controller = new AbortController();
      const withFormat = !endpoint.textMode;
      const startedAt = performance.now();
      let wait = 0;
      try {
        this.totals.calls += 1;
        endpoint.calls += 1;
        this.inFlight.add(controller);
        const response = await endpoint.client.chat.completions.create(
          {
            model: request.model,
            messages,
            temperature: request.temperature,
            max_tokens: maxTokensFor(request),
            ...(withFormat ? { response_format: responseFormat(request) } : {}),
          },
          { signal: controller.signal },
        );
        endpoint.onAnswered(performance.now() - startedAt, Date.now());
        this.answered();
        const choice = response.choices?.[0];
        const u = response.usage;
        return {
          content: choice?.message?.content ?? null,
          truncated: choice?.finish_reason === 'length',
          usage: { promptTokens: u?.prompt_tokens ?? 0, completionTokens: u?.completion_tokens ?? 0, cachedTokens: u?.prompt_tokens_details?.cached_tokens ?? 0 },
        };
      } catch (error) {
        if (this.stopped) throw this.stoppedFor(request);
        const status = (error as { status?: number }).status;
        const message = redact(error instanceof Error ? error.message : String(error), endpoint.spec.apiKey);
        if (status === 401 || status === 403) {
          throw this.stopWith(new LlmConfigurationError(`${endpoint.label}: the API key was refused (HTTP ${status}); check OPENAI_API_KEY or the endpoint's api_key_env (nothing recorded was lost)`));
        }
        if (status === 404) {
          throw this.stopWith(new LlmConfigurationError(`${endpoint.label}: model "${request.model}" not found (HTTP 404); set the tier-to-model map in the config (llm.models) to models the server has, or the endpoint's models`));
        }
        if (status === 400 && withFormat && /response_format|json_schema|structured/i.test(message)) {
          // A server without structured outputs: ask it for JSON in the text from now on (requests
          // already in flight with the format come back here too, and are sent again).
          endpoint.textMode = true;
          endpoint.onAnswered(performance.now() - startedAt, Date.now());
          attempt -= 1;
          continue;
        }
        if (status === 429) {
          // The server is there but gives no answer: its limit shrinks, and a 429 that never ends
          // (an exhausted quota) runs out the outage clock like silence does.
          endpoint.onRateLimited();
          this.lastTransportError = `${endpoint.label}: HTTP 429 (rate limited)`;
          this.noAnswer();
          wait = retryAfterMs(error) ?? backoff(base, Math.min(attempt, 6));
        } else if (status === undefined || status === 408 || status >= 500) {
          endpoint.onTransportFailure(Date.now());
          this.lastTransportError = `${endpoint.label}: ${status === undefined ? transportMessage(error, message) : `HTTP ${status}`}`;
          this.noAnswer();
          // Another endpoint may answer at once; a lone endpoint is waited for.
          wait = this.pool.endpoints.length > 1 && endpoint.state !== 'up' ? 0 : backoff(base, Math.min(attempt, 6));
        } else {
          endpoint.onAnswered(performance.now() - startedAt, Date.now());
          return { refused: `the server refused the request (HTTP ${status}): ${message}` };
        }
      } finally {
        this.inFlight.delete(controller);
        this.pool.release(endpoint);
      }
      if (wait > 0) await this.sleep(wait);
    }
  }

  private answered(): void {
    this.outageSince = null;
    if (this.outageTimer) clearTimeout(this.outageTimer);
    this.outageTimer = null;
  }

  /** A failure without an answer: starts the outage clock, which stops the run when it runs out. */
  private noAnswer(): void {
    if (this.outageSince !== null) return;
    this.outageSince = Date.now();
    const limit = this.o.maxOutageMs ?? DEFAULT_MAX_OUTAGE_MS;
    this.outageTimer = setTimeout(() => {
      this.outageTimer = null;
      if (this.outageSince === null) return;
      const minutes = formatDuration(Date.now() - this.outageSince);
      this.stop(
        new LlmUnavailableError(
          `the LLM server has not answered for ${minutes} (--max-outage ${formatDuration(limit)}; last error: ${this.lastTransportError}); the interrupted round was not recorded and the answers received are cached: continue with \`sim resume\` once the server is back (--base-url to point it at another)`,
        ),
      );
    }, limit);
  }

  /** A configuration error ends every request: the others would meet it too. */
  private stopWith(error: Error): Error {
    this.stop(error);
    return error;
  }

  private stop(error: Error): void {
    if (this.stopped) return;
    this.stopped = error;
    // A shared pool goes on serving the other providers: only this one's waiting requests fail.
    if (this.o.sharedPool) this.pool.fail(error, this);
    else this.pool.fail(error);
    for (const c of this.inFlight) c.abort();
    for (const wake of this.stopListeners) wake();
  }

  private stoppedFor(request: DecisionRequest): Error {
    return this.stopped instanceof InterruptedError || !this.stopped ? new InterruptedError(request.key.round) : this.stopped;
  }

  /** Waits, or less when the provider is stopped meanwhile. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.stopListeners.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.stopListeners.add(done);
    });
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

/** "connect ECONNREFUSED 127.0.0.1:8000" rather than the client's generic "Connection error." */
function transportMessage(error: unknown, message: string): string {
  const cause = (error as { cause?: { code?: string; message?: string; cause?: { code?: string } } }).cause;
  const code = cause?.code ?? cause?.cause?.code;
  if (code) return `${message.replace(/\.$/, '')} (${code})`;
  return message;
}

/** 90s, 5m, 1h30m: a duration as a user would write it for --max-outage. */
function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return s % 60 === 0 ? `${s / 60}m` : `${Math.floor(s / 60)}m${s % 60}s`;
  const m = Math.round(s / 60);
  return m % 60 === 0 ? `${m / 60}h` : `${Math.floor(m / 60)}h${m % 60}m`;
}
