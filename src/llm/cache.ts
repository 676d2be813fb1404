import type BetterSqlite3 from 'better-sqlite3';
import type { Usage } from '../domain/decision.js';

/**
 * Answers by request hash, in the run's database (shared by all runs in it). Written as each
 * answer arrives, outside any transaction, so a crash never loses paid-for work.
 */
export interface CachedAnswer {
  ok: boolean;
  /** The model's last text, or null when no answer came back. */
  raw: string | null;
  reason: string | null;
  usage: Usage;
}

export class LlmCache {
  private readonly get: BetterSqlite3.Statement<[string], { response: string; prompt_tokens: number; completion_tokens: number; cached_tokens: number }>;
  private readonly put: BetterSqlite3.Statement;

  constructor(sqlite: BetterSqlite3.Database) {
    this.get = sqlite.prepare('select response, prompt_tokens, completion_tokens, cached_tokens from llm_cache where key = ?');
    this.put = sqlite.prepare(
      'insert into llm_cache (key, model, response, prompt_tokens, completion_tokens, cached_tokens, created_at) values (?, ?, ?, ?, ?, ?, ?) on conflict (key) do nothing',
    );
  }

  lookup(key: string): CachedAnswer | null {
    const row = this.get.get(key);
    if (!row) return null;
    const stored = JSON.parse(row.response) as { ok: boolean; raw: string | null; reason: string | null };
    return { ...stored, usage: { promptTokens: row.prompt_tokens, completionTokens: row.completion_tokens, cachedTokens: row.cached_tokens } };
  }

  store(key: string, model: string, answer: CachedAnswer, now: string): void {
    this.put.run(key, model, JSON.stringify({ ok: answer.ok, raw: answer.raw, reason: answer.reason }), answer.usage.promptTokens, answer.usage.completionTokens, answer.usage.cachedTokens, now);
  }
}
