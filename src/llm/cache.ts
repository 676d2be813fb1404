import type { Usage } from '../domain/decision.js';
import type { CacheRow, Store } from '../events/port.js';

/**
 * Answers by request hash, in the run's store (shared by all runs in it). Written as answers
 * arrive, outside the rounds' transactions, so a crash loses almost no paid-for work: the answers
 * that arrive within WRITE_DELAY_MS of the first one waiting are written together in one statement
 * (a crash can lose those; one commit per answer cost a third of a millisecond of the client's CPU
 * each, docs/performance.md, and one write per turn of the event loop still wrote every 6 answers
 * at 64 requests in flight, docs/distributed.md).
 */
export interface CachedAnswer {
  ok: boolean;
  /** The model's last text, or null when no answer came back. */
  raw: string | null;
  reason: string | null;
  usage: Usage;
}

/**
 * Versions before 0.2 stored a request that never got an answer (server down, timeouts) like an
 * answer, with this reason. Such a row is not an answer: it is asked again, and replacing it is the
 * one overwrite the cache allows.
 */
const UNANSWERED_PREFIX = '{"ok":false,"raw":null,"reason":"no answer after ';

export interface CacheHit extends CachedAnswer {
  /** An old row of a request that got no answer (see UNANSWERED_PREFIX). */
  unanswered: boolean;
}

/** How long an answer may wait to be written with the ones after it, and how many may wait. */
const WRITE_DELAY_MS = 100;
const WRITE_BATCH = 256;

/** The part of the store the cache uses. */
export type CacheStore = Pick<Store, 'cacheGetMany' | 'cachePut' | 'cacheCount' | 'cacheReserve' | 'cacheRelease'>;

export class LlmCache {
  private pending = new Map<string, { model: string; answer: CachedAnswer; now: string }>();
  private flushTimer: NodeJS.Timeout | null = null;
  /** Keys asked for in this turn of the event loop, read together in one query when it ends. */
  private asked: Map<string, Array<{ resolve: (row: CacheRow | null) => void; reject: (error: unknown) => void }>> | null = null;

  /** Keys this cache reserved (see claim) and has not released yet. */
  private readonly reserved = new Set<string>();
  private reserving: Map<string, Array<{ resolve: (mine: boolean) => void; reject: (error: unknown) => void }>> | null = null;

  constructor(private readonly backend: CacheStore) {}

  /**
   * Before asking a request the cache does not hold: waits until no other process sharing the store
   * is asking the same request (two workers whose conditions share their untreated users' early
   * requests would otherwise both pay). Returns the other process's answer if one arrived meanwhile,
   * or null: ask it; the reservation ends once its answer is written (flush) or with abandon().
   * `stopped` is polled while waiting.
   */
  async claim(key: string, stopped: () => Error | null): Promise<CacheHit | null> {
    if (!this.backend.cacheReserve) return null;
    for (let waitMs = 25; ; waitMs = Math.min(500, waitMs * 2)) {
      if (await this.reserve(key)) {
        this.reserved.add(key);
        // The holder before us may have written its answer and let go just now.
        const hit = await this.lookup(key);
        if (hit && !hit.unanswered) {
          await this.abandon(key);
          return hit;
        }
        return null;
      }
      const stop = stopped();
      if (stop) throw stop;
      await new Promise((resolve) => setTimeout(resolve, waitMs));
      const hit = await this.lookup(key);
      if (hit && !hit.unanswered) return hit;
    }
  }

  /** Ends a reservation whose request got no answer to write (the run stopped, a configuration error). */
  async abandon(key: string): Promise<void> {
    if (this.reserved.delete(key)) await this.backend.cacheRelease?.([key]);
  }

  /** Reserves a key with the others reserved in the same turn of the event loop (one query a round). */
  private reserve(key: string): Promise<boolean> {
    return new Promise((resolve, reject) => {
      if (!this.reserving) {
        const asked = (this.reserving = new Map());
        setImmediate(() => {
          this.reserving = null;
          this.backend.cacheReserve!([...asked.keys()]).then(
            (mine) => {
              for (const [k, waiting] of asked) for (const w of waiting) w.resolve(mine.has(k));
            },
            (error: unknown) => {
              for (const waiting of asked.values()) for (const w of waiting) w.reject(error);
            },
          );
        });
      }
      const waiting = this.reserving.get(key);
      // The same key twice in one turn: the first holds it, the second waits for its answer.
      if (waiting) waiting.push({ resolve: () => resolve(false), reject });
      else this.reserving.set(key, [{ resolve, reject }]);
    });
  }

  async lookup(key: string): Promise<CacheHit | null> {
    const waiting = this.pending.get(key);
    if (waiting) return { ...waiting.answer, unanswered: isUnanswered(waiting.answer) };
    const row = await this.read(key);
    if (!row) return null;
    const stored = JSON.parse(row.response) as { ok: boolean; raw: string | null; reason: string | null };
    return { ...stored, unanswered: row.response.startsWith(UNANSWERED_PREFIX), usage: { promptTokens: row.promptTokens, completionTokens: row.completionTokens, cachedTokens: row.cachedTokens } };
  }

  /**
   * A key's row, read with the other keys asked for in the same turn of the event loop: a round's
   * requests all start in one turn, so a round costs one query instead of one per request.
   */
  private read(key: string): Promise<CacheRow | null> {
    return new Promise((resolve, reject) => {
      if (!this.asked) {
        const asked = (this.asked = new Map());
        setImmediate(() => {
          this.asked = null;
          this.backend.cacheGetMany([...asked.keys()]).then(
            (found) => {
              for (const [k, waiting] of asked) for (const w of waiting) w.resolve(found.get(k) ?? null);
            },
            (error: unknown) => {
              for (const waiting of asked.values()) for (const w of waiting) w.reject(error);
            },
          );
        });
      }
      const waiting = this.asked.get(key);
      if (waiting) waiting.push({ resolve, reject });
      else this.asked.set(key, [{ resolve, reject }]);
    });
  }

  /** Rows of requests that never got an answer, left by older versions (asked again by a new request). */
  async countUnanswered(): Promise<number> {
    await this.flush();
    return this.backend.cacheCount(UNANSWERED_PREFIX);
  }

  store(key: string, model: string, answer: CachedAnswer, now: string): void {
    const waiting = this.pending.get(key);
    if (!waiting || isUnanswered(waiting.answer)) this.pending.set(key, { model, answer, now });
    if (this.pending.size >= WRITE_BATCH) {
      if (this.flushTimer) clearTimeout(this.flushTimer);
      this.flushTimer = null;
      void this.flush().catch(() => undefined);
    } else if (!this.flushTimer) {
      this.flushTimer = setTimeout(() => void this.flush().catch(() => undefined), WRITE_DELAY_MS);
    }
  }

  /** Writes what is waiting now (also called before the store is closed). */
  async flush(): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    if (this.pending.size === 0) return;
    const rows = [...this.pending].map(([key, { model, answer, now }]) => ({
      key,
      model,
      response: JSON.stringify({ ok: answer.ok, raw: answer.raw, reason: answer.reason }),
      promptTokens: answer.usage.promptTokens,
      completionTokens: answer.usage.completionTokens,
      cachedTokens: answer.usage.cachedTokens,
      createdAt: now,
    }));
    this.pending = new Map();
    await this.backend.cachePut(rows, UNANSWERED_PREFIX);
    // Written: other processes waiting for these requests find the answers now.
    const answered = rows.map((r) => r.key).filter((key) => this.reserved.delete(key));
    if (answered.length > 0) await this.backend.cacheRelease?.(answered);
  }
}

function isUnanswered(answer: CachedAnswer): boolean {
  return !answer.ok && answer.raw === null && (answer.reason ?? '').startsWith('no answer after ');
}
