import OpenAI from 'openai';
import type { EndpointStatus } from '../domain/decision.js';
import { keepAliveFetch, type KeepAliveFetch } from './http-fetch.js';

/**
 * The servers a run talks to. Each request goes to an endpoint serving its model with the most free
 * capacity (fewest in flight relative to its limit and weight). Each endpoint has its own adaptive
 * limit (shrinks on 429, grows back on success) and a circuit breaker: after repeated transport
 * failures it is taken out, probed with one request after a cool-down, and put back when that
 * answers. Which endpoint answers never changes what is asked, so results do not depend on it.
 */
export interface EndpointSpec {
  url: string;
  apiKey: string;
  /** Models this endpoint serves; null: all. */
  models: string[] | null;
  maxConcurrency: number;
  weight: number;
}

export type EndpointState = EndpointStatus['state'];
/** Requests sent (calls), answered with 2xx, and failed without an answer or with 429 (errors). */
export type EndpointStats = EndpointStatus;

export interface BreakerOptions {
  /** Consecutive transport failures that take an endpoint out. */
  failures?: number;
  /** First cool-down before a probe; doubles after each failed probe up to maxCooldownMs. */
  cooldownMs?: number;
  maxCooldownMs?: number;
}

const LATENCY_SAMPLES = 1024;
const RATE_WINDOW_S = 10;

export class Endpoint {
  readonly client: OpenAI;
  private readonly transport: KeepAliveFetch;
  /** The URL without credentials, for messages, progress and the log. */
  readonly label: string;
  state: EndpointState = 'up';
  inFlight = 0;
  limit: number;
  maxObserved = 0;
  /** A server without structured outputs gets JSON-in-text requests from then on. */
  textMode = false;
  calls = 0;
  answered = 0;
  errors = 0;
  private successes = 0;
  private consecutiveFailures = 0;
  private cooldownMs: number;
  reopenAt = 0;
  private readonly latencies = new Float64Array(LATENCY_SAMPLES);
  private latencyCount = 0;
  private readonly buckets = new Map<number, number>();

  constructor(
    readonly spec: EndpointSpec,
    private readonly breaker: Required<BreakerOptions>,
    timeoutMs: number,
  ) {
    this.transport = keepAliveFetch();
    this.client = new OpenAI({ apiKey: spec.apiKey, baseURL: spec.url, maxRetries: 0, timeout: timeoutMs, fetch: this.transport.fetch });
    this.label = displayUrl(spec.url);
    this.limit = spec.maxConcurrency;
    this.cooldownMs = breaker.cooldownMs;
  }

  close(): void {
    this.transport.close();
  }

  serves(model: string): boolean {
    return this.spec.models === null || this.spec.models.includes(model);
  }

  /** Load relative to capacity: the lowest gets the next request. */
  load(): number {
    return (this.inFlight + 1) / (this.limit * this.spec.weight);
  }

  onAnswered(latencyMs: number, now: number): void {
    this.answered += 1;
    this.latencies[this.latencyCount++ % LATENCY_SAMPLES] = latencyMs;
    const second = Math.floor(now / 1000);
    this.buckets.set(second, (this.buckets.get(second) ?? 0) + 1);
    if (this.buckets.size > RATE_WINDOW_S * 2) for (const key of this.buckets.keys()) if (key < second - RATE_WINDOW_S) this.buckets.delete(key);
    this.consecutiveFailures = 0;
    if (this.state !== 'up') {
      this.state = 'up';
      this.cooldownMs = this.breaker.cooldownMs;
    }
    this.successes += 1;
    if (this.limit < this.spec.maxConcurrency && this.successes >= 20) {
      this.limit += 1;
      this.successes = 0;
    }
  }

  onRateLimited(): void {
    this.errors += 1;
    this.limit = Math.max(1, Math.floor(this.limit * 0.7));
    this.successes = 0;
    // A server that says "too many" is up: a probe that gets a 429 puts it back.
    if (this.state === 'probing') this.state = 'up';
  }

  /** A request that got no answer (refused, dropped, timed out, 5xx). */
  onTransportFailure(now: number): void {
    this.errors += 1;
    this.consecutiveFailures += 1;
    if (this.state === 'probing') {
      this.cooldownMs = Math.min(this.breaker.maxCooldownMs, this.cooldownMs * 2);
      this.takeOut(now);
    } else if (this.state === 'up' && this.consecutiveFailures >= this.breaker.failures) {
      this.takeOut(now);
    }
  }

  takeOut(now: number): void {
    this.state = 'out';
    this.reopenAt = now + this.cooldownMs;
  }

  stats(now: number): EndpointStats {
    const n = Math.min(this.latencyCount, LATENCY_SAMPLES);
    const sorted = Array.from(this.latencies.subarray(0, n)).sort((a, b) => a - b);
    const q = (p: number) => (n === 0 ? null : sorted[Math.min(n - 1, Math.floor(p * n))]);
    const second = Math.floor(now / 1000);
    let recent = 0;
    for (const [key, count] of this.buckets) if (key > second - RATE_WINDOW_S && key < second) recent += count;
    return { url: this.label, state: this.state, inFlight: this.inFlight, limit: this.limit, calls: this.calls, answered: this.answered, errors: this.errors, callsPerSecond: recent / (RATE_WINDOW_S - 1), p50Ms: q(0.5), p95Ms: q(0.95) };
  }
}

interface Waiter {
  resolve: (endpoint: Endpoint) => void;
  reject: (error: Error) => void;
  /** Who asked (a provider sharing the pool), so that one stopping fails only its own waiters. */
  owner?: object;
}

/** A FIFO that does not shift thousands of waiting requests one by one. */
class Queue<T> {
  private items: T[] = [];
  private head = 0;
  get size(): number {
    return this.items.length - this.head;
  }
  push(item: T): void {
    this.items.push(item);
  }
  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head++];
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
  drain(): T[] {
    const rest = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    return rest;
  }
  /** Takes out the items that match, keeping the others in order. */
  remove(match: (item: T) => boolean): T[] {
    const rest = this.drain();
    const removed: T[] = [];
    for (const item of rest) (match(item) ? removed : this.items).push(item);
    return removed;
  }
}

export class EndpointPool {
  readonly endpoints: Endpoint[];
  private readonly queues = new Map<string, Queue<Waiter>>();
  private failure: Error | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(specs: EndpointSpec[], timeoutMs: number, breaker: BreakerOptions = {}, private readonly clock: () => number = Date.now) {
    if (specs.length === 0) throw new Error('no LLM endpoint');
    const b = { failures: breaker.failures ?? 3, cooldownMs: breaker.cooldownMs ?? 2_000, maxCooldownMs: breaker.maxCooldownMs ?? 30_000 };
    this.endpoints = specs.map((s) => new Endpoint(s, b, timeoutMs));
  }

  get maxObserved(): number {
    return Math.max(...this.endpoints.map((e) => e.maxObserved));
  }

  /**
   * Waits for an endpoint serving `model` with room for one more request, and takes that room.
   * `owner`: the provider asking, when several share this pool (see SharedEndpointPools).
   */
  acquire(model: string, owner?: object): Promise<Endpoint> {
    if (this.failure) return Promise.reject(this.failure);
    let queue = this.queues.get(model);
    if (!queue) {
      if (!this.endpoints.some((e) => e.serves(model))) {
        return Promise.reject(new Error(`no endpoint serves model "${model}" (llm.endpoints[].models)`));
      }
      queue = new Queue<Waiter>();
      this.queues.set(model, queue);
    }
    if (queue.size === 0) {
      const endpoint = this.pick(model);
      if (endpoint) return Promise.resolve(endpoint);
    }
    return new Promise<Endpoint>((resolve, reject) => {
      queue.push({ resolve, reject, owner });
      this.scheduleReopen();
    });
  }

  /** Gives the room back (the outcome was already reported to the endpoint) and serves waiters. */
  release(endpoint: Endpoint): void {
    endpoint.inFlight -= 1;
    this.dispatch();
  }

  /**
   * Every waiting and later request fails with this error (an outage too long, or Ctrl-C). With an
   * owner, only that owner's waiting requests fail (it stops; the others sharing the pool go on).
   */
  fail(error: Error, owner?: object): void {
    if (owner !== undefined) {
      for (const queue of this.queues.values()) for (const w of queue.remove((x) => x.owner === owner)) w.reject(error);
      return;
    }
    this.failure = error;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const queue of this.queues.values()) for (const w of queue.drain()) w.reject(error);
  }

  close(): void {
    for (const e of this.endpoints) e.close();
  }

  stats(): EndpointStats[] {
    const now = this.clock();
    return this.endpoints.map((e) => e.stats(now));
  }

  /** The endpoint for the next request of `model`, its room taken; null when none has room. */
  private pick(model: string): Endpoint | null {
    const now = this.clock();
    let best: Endpoint | null = null;
    for (const e of this.endpoints) {
      if (!e.serves(model)) continue;
      if (e.state === 'out' && now >= e.reopenAt) {
        // The cool-down is over: this request is the probe.
        e.state = 'probing';
        return this.take(e);
      }
      if (e.state !== 'up' || e.inFlight >= e.limit) continue;
      if (!best || e.load() < best.load()) best = e;
    }
    return best ? this.take(best) : null;
  }

  private take(e: Endpoint): Endpoint {
    e.inFlight += 1;
    e.maxObserved = Math.max(e.maxObserved, e.inFlight);
    return e;
  }

  private dispatch(): void {
    for (const [model, queue] of this.queues) {
      while (queue.size > 0) {
        const endpoint = this.pick(model);
        if (!endpoint) break;
        queue.shift()!.resolve(endpoint);
      }
    }
    this.scheduleReopen();
  }

  /** While requests wait and endpoints are out, wake at the end of the first cool-down to probe. */
  private scheduleReopen(): void {
    if (this.timer || this.failure) return;
    let waiting = false;
    for (const q of this.queues.values()) waiting ||= q.size > 0;
    if (!waiting) return;
    const out = this.endpoints.filter((e) => e.state === 'out');
    if (out.length === 0) return;
    const at = Math.min(...out.map((e) => e.reopenAt));
    this.timer = setTimeout(() => {
      this.timer = null;
      this.dispatch();
    }, Math.max(0, at - this.clock()) + 1);
  }
}

/**
 * The endpoint pools of one process, shared by every provider with the same endpoints (`sim worker
 * --jobs N`: the jobs' requests to a server share one limit, one adaptive rate limit and one circuit
 * breaker per endpoint, instead of each job having its own). Closed by whoever made it.
 */
export class SharedEndpointPools {
  private readonly pools = new Map<string, EndpointPool>();

  /** The pool of these endpoints (same URLs, keys, models, limits and weights), made on first use. */
  get(specs: EndpointSpec[], timeoutMs: number, breaker: BreakerOptions = {}): EndpointPool {
    const key = JSON.stringify([timeoutMs, breaker, specs.map((s) => [s.url, s.apiKey, s.models, s.maxConcurrency, s.weight])]);
    let pool = this.pools.get(key);
    if (!pool) {
      pool = new EndpointPool(specs, timeoutMs, breaker);
      this.pools.set(key, pool);
    }
    return pool;
  }

  get size(): number {
    return this.pools.size;
  }

  close(): void {
    for (const pool of this.pools.values()) pool.close();
    this.pools.clear();
  }
}

/** A URL for display: no user name or password, no trailing slash. */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname.replace(/\/$/, '')}`;
  } catch {
    return '(invalid URL)';
  }
}
