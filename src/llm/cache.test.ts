import { afterEach, describe, expect, it, vi } from 'vitest';
import type { CacheRow } from '../events/port.js';
import { LlmCache, type CacheStore } from './cache.js';

const row = (key: string, raw: string): CacheRow => ({
  key,
  model: 'm',
  response: JSON.stringify({ ok: true, raw, reason: null }),
  promptTokens: 10,
  completionTokens: 2,
  cachedTokens: 0,
  createdAt: '2026-01-01T00:00:00.000Z',
});

/** A store holding rows a and b that records the keys of each read. */
function backend(fail = false): CacheStore & { reads: string[][] } {
  const rows = new Map([
    ['a', row('a', 'A')],
    ['b', row('b', 'B')],
  ]);
  const reads: string[][] = [];
  return {
    reads,
    async cacheGetMany(keys) {
      reads.push([...keys]);
      if (fail) throw new Error('store gone');
      return new Map(keys.filter((k) => rows.has(k)).map((k) => [k, rows.get(k)!]));
    },
    async cachePut() {},
    async cacheCount() {
      return rows.size;
    },
  };
}

describe('LlmCache lookups', () => {
  it('reads the keys asked for in one turn of the event loop in one query, each key once', async () => {
    const store = backend();
    const cache = new LlmCache(store);
    const answers = await Promise.all(['a', 'x', 'b', 'a'].map((k) => cache.lookup(k)));
    expect(store.reads).toEqual([['a', 'x', 'b']]);
    expect(answers.map((a) => a?.raw ?? null)).toEqual(['A', null, 'B', 'A']);
    expect(answers[0]).toMatchObject({ ok: true, unanswered: false, usage: { promptTokens: 10, completionTokens: 2, cachedTokens: 0 } });
    // A later turn is a query of its own.
    expect((await cache.lookup('b'))?.raw).toBe('B');
    expect(store.reads).toEqual([['a', 'x', 'b'], ['b']]);
  });

  it('answers from what waits to be written without reading the store', async () => {
    const store = backend();
    const cache = new LlmCache(store);
    cache.store('y', 'm', { ok: true, raw: 'Y', reason: null, usage: { promptTokens: 1, completionTokens: 1, cachedTokens: 0 } }, '2026-01-01T00:00:00.000Z');
    expect((await cache.lookup('y'))?.raw).toBe('Y');
    expect(store.reads).toEqual([]);
  });

  it('fails every lookup of the turn when the read fails', async () => {
    const cache = new LlmCache(backend(true));
    const results = await Promise.allSettled([cache.lookup('a'), cache.lookup('b')]);
    expect(results.map((r) => (r.status === 'rejected' ? (r.reason as Error).message : 'ok'))).toEqual(['store gone', 'store gone']);
  });
});

describe('LlmCache writes', () => {
  afterEach(() => vi.useRealTimers());
  const answer = (raw: string) => ({ ok: true, raw, reason: null, usage: { promptTokens: 1, completionTokens: 1, cachedTokens: 0 } });
  /** A store that records the keys of each write. */
  function writes(): CacheStore & { puts: string[][] } {
    const puts: string[][] = [];
    return {
      puts,
      async cacheGetMany() {
        return new Map();
      },
      async cachePut(rows) {
        puts.push(rows.map((r) => r.key));
      },
      async cacheCount() {
        return 0;
      },
    };
  }

  it('writes the answers of 100 ms together, in one write, and what waits at once on flush', async () => {
    vi.useFakeTimers();
    const store = writes();
    const cache = new LlmCache(store);
    cache.store('a', 'm', answer('A'), 't');
    await vi.advanceTimersByTimeAsync(60);
    cache.store('b', 'm', answer('B'), 't');
    await vi.advanceTimersByTimeAsync(39);
    // 99 ms after the first answer: nothing written yet, and the answers are there to look up.
    expect(store.puts).toEqual([]);
    expect((await cache.lookup('b'))?.raw).toBe('B');
    await vi.advanceTimersByTimeAsync(1);
    expect(store.puts).toEqual([['a', 'b']]);
    cache.store('c', 'm', answer('C'), 't');
    await cache.flush();
    expect(store.puts).toEqual([['a', 'b'], ['c']]);
    // The timer of c's window finds nothing left to write.
    await vi.advanceTimersByTimeAsync(200);
    expect(store.puts).toEqual([['a', 'b'], ['c']]);
  });

  it('writes at once when 256 answers wait', async () => {
    vi.useFakeTimers();
    const store = writes();
    const cache = new LlmCache(store);
    for (let i = 0; i < 256; i++) cache.store(`k${i}`, 'm', answer(String(i)), 't');
    await vi.advanceTimersByTimeAsync(0);
    expect(store.puts.map((keys) => keys.length)).toEqual([256]);
    expect(store.puts[0].slice(0, 2)).toEqual(['k0', 'k1']);
  });
});
