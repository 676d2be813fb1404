import type BetterSqlite3 from 'better-sqlite3';
import type { Usage } from '../domain/decision.js';

/**
 * Answers by request hash, in the run's database (shared by all runs in it). Written as answers
 * arrive, outside the rounds' transactions, so a crash loses almost no paid-for work: the answers
 * that arrive in one turn of the event loop are written together in one transaction at its end (a
 * crash can lose that turn's answers; one commit per answer cost a third of a millisecond of the
 * client's CPU each, docs/performance.md).
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

export class LlmCache {
  private readonly get: BetterSqlite3.Statement<[string], { response: string; prompt_tokens: number; completion_tokens: number; cached_tokens: number }>;
  private readonly put: BetterSqlite3.Statement;

  private pending = new Map<string, { model: string; answer: CachedAnswer; now: string }>();
  private flushScheduled = false;
  private readonly writeAll: (rows: Array<[string, { model: string; answer: CachedAnswer; now: string }]>) => void;

  constructor(private readonly sqlite: BetterSqlite3.Database) {
    this.get = sqlite.prepare('select response, prompt_tokens, completion_tokens, cached_tokens from llm_cache where key = ?');
    this.put = sqlite.prepare(
      `insert into llm_cache (key, model, response, prompt_tokens, completion_tokens, cached_tokens, created_at) values (?, ?, ?, ?, ?, ?, ?)
       on conflict (key) do update set response = excluded.response, prompt_tokens = excluded.prompt_tokens, completion_tokens = excluded.completion_tokens,
         cached_tokens = excluded.cached_tokens, created_at = excluded.created_at
       where substr(llm_cache.response, 1, ${UNANSWERED_PREFIX.length}) = '${UNANSWERED_PREFIX}'`,
    );
    this.writeAll = sqlite.transaction((rows) => {
      for (const [key, { model, answer, now }] of rows) {
        this.put.run(key, model, JSON.stringify({ ok: answer.ok, raw: answer.raw, reason: answer.reason }), answer.usage.promptTokens, answer.usage.completionTokens, answer.usage.cachedTokens, now);
      }
    });
    this.unanswered = sqlite.prepare(`select count(*) as n from llm_cache where substr(response, 1, ${UNANSWERED_PREFIX.length}) = '${UNANSWERED_PREFIX}'`);
  }

  private readonly unanswered: BetterSqlite3.Statement<[], { n: number }>;

  lookup(key: string): CacheHit | null {
    const waiting = this.pending.get(key);
    if (waiting) return { ...waiting.answer, unanswered: isUnanswered(waiting.answer) };
    const row = this.get.get(key);
    if (!row) return null;
    const stored = JSON.parse(row.response) as { ok: boolean; raw: string | null; reason: string | null };
    return { ...stored, unanswered: row.response.startsWith(UNANSWERED_PREFIX), usage: { promptTokens: row.prompt_tokens, completionTokens: row.completion_tokens, cachedTokens: row.cached_tokens } };
  }

  /** Rows of requests that never got an answer, left by older versions (asked again by a new request). */
  countUnanswered(): number {
    this.flush();
    return this.unanswered.get()!.n;
  }

  store(key: string, model: string, answer: CachedAnswer, now: string): void {
    const waiting = this.pending.get(key);
    if (!waiting || isUnanswered(waiting.answer)) this.pending.set(key, { model, answer, now });
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Writes what is waiting now (also called before the database is closed). */
  flush(): void {
    this.flushScheduled = false;
    if (this.pending.size === 0 || !this.sqlite.open) return;
    const rows = [...this.pending];
    this.pending = new Map();
    this.writeAll(rows);
  }
}

function isUnanswered(answer: CachedAnswer): boolean {
  return !answer.ok && answer.raw === null && (answer.reason ?? '').startsWith('no answer after ');
}
