import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeServer, type FakeServer } from '../../test/support/fake-openai-server.js';
import { persona } from '../../test/support/world.js';
import type { InitialPostRequest, TurnRequest, VoteRequest } from '../domain/decision.js';
import { CacheMissError, LlmUnavailableError } from '../errors.js';
import { EventStore } from '../sim/store.js';
import { LlmCache } from './cache.js';
import { buildMessages, maxTokensFor, responseFormat } from '../domain/prompts.js';
import { canonicalJson, sha256 } from '../events/canonical.js';
import { OpenAiProvider, parseJsonAnswer } from './openai-provider.js';

const dir = mkdtempSync(join(tmpdir(), 'sim-provider-'));
let store: EventStore;
let server: FakeServer;
beforeAll(async () => {
  store = await EventStore.open(dir);
  server = await startFakeServer();
});
afterAll(async () => {
  await server.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const vote = (agentId: number): VoteRequest => ({ purpose: 'vote', key: { seed: 1, agentId, round: 30, purpose: 'vote' }, model: 'gpt-4.1-nano', temperature: 0.5, persona: persona(agentId), lastLikelihood: 3 });
const turn = (agentId: number): TurnRequest => ({
  purpose: 'turn',
  key: { seed: 1, agentId, round: 4, purpose: 'turn' },
  model: 'gpt-4.1-nano',
  temperature: 0.5,
  persona: persona(agentId),
  round: 4,
  stage: 'warmup',
  topic: 'Politics',
  previousTurn: null,
  previousLikelihood: null,
  feed: [1, 2].map((n) => ({ number: n, postId: n, authorId: 9, authorProfile: 'someone', authorFollowed: false, topic: 'Politics', subtopic: 'Politics', text: `post ${n}`, likesByFollowed: 0, repliesByFollowed: 0, totalLikes: 0, totalReplies: 0, latestReply: null })),
  election: { daysLeft: 26 },
  treatment: null,
  invitePost: null,
  activityRange: { min: 1, max: 5 },
});
const endpoint = (url: string, maxConcurrency = 4) => ({ url, apiKey: 'k', models: null, maxConcurrency, weight: 1 });
const provider = (extra: Partial<ConstructorParameters<typeof OpenAiProvider>[0]> & { concurrency?: number } = {}) =>
  new OpenAiProvider({ endpoints: [endpoint(server.url, extra.concurrency ?? 4)], cache: new LlmCache(store), backoffMs: 5, ...extra });

describe('OpenAiProvider', () => {
  it('keys the cache by the prompt text sent: a prompt changed by one character is a new request', () => {
    // Why src/domain/__snapshots__/prompts.test.ts.snap exists: editing a prompt silently makes every
    // cached answer unreachable (a paid re-run), so a prompt change must be a deliberate snapshot update.
    const p = provider();
    const request = turn(3);
    const messages = buildMessages(request);
    expect(p.cacheKey(request)).toBe(p.cacheKey(request, buildMessages(request)));
    const edited = messages.map((m, i) => (i === 0 ? { ...m, content: `${m.content} ` } : m));
    expect(p.cacheKey(request, edited)).not.toBe(p.cacheKey(request, messages));
    // the persona is in the prompt, so another persona is another request under the same sample key
    expect(p.cacheKey({ ...request, persona: persona(3, { age: 61 }) })).not.toBe(p.cacheKey(request));
  });

  it('keys the cache by the sha256 of the canonical JSON of what is sent and the sample key, for every shape of request', () => {
    // cacheKey writes that JSON directly (a replay computes a key per decision); recorded caches hold
    // keys of the canonical form, so the two must give the same bytes for every kind of request.
    const p = provider();
    const post: InitialPostRequest = { purpose: 'initial_post', key: { seed: 2, agentId: 8, round: 0, purpose: 'initial_post' }, model: 'm"odel', temperature: 1, persona: persona(8), topic: 'Sports', subtopic: 'Football "quoted"', maxChars: 140 };
    const treated: TurnRequest = {
      ...turn(5),
      previousTurn: { round: 3, liked: [{ postId: 1, text: 'a "liked" post\nwith a newline' }], replied: [], posted: 'é ünïcode ✓' },
      previousLikelihood: 2,
      invitePost: { topic: 'Politics', subtopic: 'Elections', daysLeft: 3 },
      treatment: { kind: 'social', stimulus: 'Vote!', likelyVoters: 12, friendIds: [4, 7] },
    };
    const requests = [vote(2), { ...vote(3), lastLikelihood: null }, post, turn(4), { ...turn(6), election: null }, treated, { ...treated, election: null }, { ...turn(7), feed: [] }, { ...turn(9), temperature: 0.25 }];
    for (const request of requests) {
      const messages = buildMessages(request);
      const canonical = sha256(canonicalJson({ model: request.model, messages, temperature: request.temperature, max_tokens: maxTokensFor(request), response_format: responseFormat(request), sample: request.key }));
      expect(p.cacheKey(request, messages)).toBe(canonical);
      // and once more, when the response format's text comes from the provider's memory of it
      expect(p.cacheKey(request)).toBe(canonical);
    }
    // with the corrections a provider appends after an unusable answer
    const messages = [...buildMessages(treated), { role: 'assistant' as const, content: '{"engagement": [' }, { role: 'user' as const, content: 'That answer could not be used.' }];
    expect(p.cacheKey(treated, messages)).toBe(sha256(canonicalJson({ model: treated.model, messages, temperature: 0.5, max_tokens: maxTokensFor(treated), response_format: responseFormat(treated), sample: treated.key })));
  });

  it('answers from the cache without a request, and separately per sample key', async () => {
    const p = provider();
    const before = server.requests;
    const first = await p.decide(vote(1));
    expect(first.ok).toBe(true);
    expect(server.requests).toBe(before + 1);
    const again = await p.decide(vote(1));
    expect(again).toMatchObject({ ok: true, cached: true, value: first.ok ? first.value : null });
    expect(server.requests).toBe(before + 1);
    await p.decide(vote(2));
    expect(server.requests).toBe(before + 2);
    expect(p.stats()).toMatchObject({ cacheHits: 1, calls: 2 });
  });

  it('bounds what requests would spend from above: each uncached one at its prompt (3 characters a token) and max tokens, times 1.5; cached ones cost nothing; unpriced models nothing', async () => {
    const prices = { 'gpt-4.1-nano': { input: 0.1, cached_input: 0.025, output: 0.4 } };
    const p = provider({ prices });
    const requests = [turn(301), vote(302)];
    // By hand: prompt characters / 3 rounded up at $0.1 per million, max tokens at $0.4, times 1.5.
    const byHand = (r: TurnRequest | VoteRequest) => (1.5 * (Math.ceil(buildMessages(r).reduce((n, m) => n + m.content.length, 0) / 3) * 0.1 + maxTokensFor(r) * 0.4)) / 1e6;
    const bound = await p.costBound(requests);
    expect(bound).toBeCloseTo(byHand(requests[0]) + byHand(requests[1]), 15);
    for (const r of requests) await p.decide(r);
    // What they cost is within the bound, and once cached they cost nothing.
    expect(p.stats().costUsd).toBeGreaterThan(0);
    expect(p.stats().costUsd).toBeLessThanOrEqual(bound);
    await p.persist();
    expect(await p.costBound(requests)).toBe(0);
    expect(await p.costBound([{ ...vote(303), model: 'local-model' }])).toBe(0);
    await p.close();
  });

  it('with cache-only, a miss is an error and no request is made', async () => {
    const before = server.requests;
    await expect(provider({ cacheOnly: true }).decide(vote(77))).rejects.toThrow(CacheMissError);
    expect(server.requests).toBe(before);
  });

  it('retries rate limits and server errors until an answer comes', async () => {
    server.setOptions({ faults: { rateLimit: 0.3, serverError: 0.2 } });
    const p = provider();
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => p.decide(turn(100 + i))));
    server.setOptions({});
    expect(answers.every((a) => a.ok)).toBe(true);
    expect(p.stats().retries).toBeGreaterThan(0);
  });

  it('honours retry-after on 429, and asks until an answer comes', async () => {
    server.setOptions({ faults: { rateLimit: 1 }, retryAfterSeconds: 0.3 });
    const p = provider();
    const started = Date.now();
    const pending = p.decide(turn(200));
    await new Promise((r) => setTimeout(r, 100));
    server.setOptions({});
    const answer = await pending;
    expect(answer.ok).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('asks for a correction on an invalid answer and succeeds when the next one is valid', async () => {
    server.setOptions({ faults: { outOfRange: 0.5 } });
    const p = provider();
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => p.decide(turn(300 + i))));
    server.setOptions({});
    expect(answers.filter((a) => a.ok).length).toBeGreaterThan(8);
    expect(p.stats().calls).toBeGreaterThan(12);
  });

  it('keeps at most `concurrency` requests in flight', async () => {
    server.setOptions({ latencyMs: 30 });
    const p = provider({ concurrency: 3 });
    await Promise.all(Array.from({ length: 15 }, (_, i) => p.decide(vote(400 + i))));
    server.setOptions({});
    expect(p.maxInFlight).toBeLessThanOrEqual(3);
    expect(p.maxInFlight).toBe(3);
  });

  it('never caches a request that got no answer: a hanging server stops the provider after --max-outage', async () => {
    server.setOptions({ faults: { hang: 1 } });
    const p = provider({ timeoutMs: 100, maxOutageMs: 1000 });
    const started = Date.now();
    const outcome = await p.decide(vote(500)).then(
      () => null,
      (error: Error) => error,
    );
    server.setOptions({});
    await p.close();
    expect(outcome).toBeInstanceOf(LlmUnavailableError);
    expect(outcome?.message).toMatch(/has not answered for 1s .*timed out/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(990);
    expect(p.stats().retries).toBeGreaterThan(1);
    expect(await new LlmCache(store).lookup(p.cacheKey(vote(500)))).toBeNull();
  });

  it('retries dropped connections and 5xx without a cap, and caches only the answer', async () => {
    server.setOptions({ faults: { drop: 0.3, serverError: 0.3 } });
    const p = provider({ breaker: { cooldownMs: 20, maxCooldownMs: 100 } });
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => p.decide(vote(600 + i))));
    server.setOptions({});
    await p.close();
    expect(answers.every((a) => a.ok)).toBe(true);
    expect(p.stats().failures).toBe(0);
    for (let i = 0; i < 10; i++) expect(await new LlmCache(store).lookup(p.cacheKey(vote(600 + i)))).toMatchObject({ ok: true, unanswered: false });
  });

  it('asks again for an old cached transport failure and replaces it; a cache-only replay uses it and names it', async () => {
    const cache = new LlmCache(store);
    const p = provider();
    const key = p.cacheKey(vote(700));
    // The row an older version wrote after 6 failed attempts.
    cache.store(key, 'gpt-4.1-nano', { ok: false, raw: null, reason: 'no answer after 6 attempts (last: Connection error.)', usage: { promptTokens: 0, completionTokens: 0, cachedTokens: 0 } }, 'then');
    const unansweredBefore = await cache.countUnanswered();
    expect(unansweredBefore).toBeGreaterThanOrEqual(1);
    const replayed = await provider({ cacheOnly: true }).decide(vote(700));
    expect(replayed).toMatchObject({ ok: false, cached: true });
    const replayer = provider({ cacheOnly: true });
    await replayer.decide(vote(700));
    expect(replayer.stats()).toMatchObject({ unanswered: 1, unansweredExamples: ['agent 700 round 30 (vote)'] });

    const before = server.requests;
    const answer = await p.decide(vote(700));
    await p.close();
    expect(answer).toMatchObject({ ok: true, cached: false });
    expect(server.requests).toBe(before + 1);
    expect(await cache.lookup(key)).toMatchObject({ ok: true, unanswered: false });
    expect(await cache.countUnanswered()).toBe(unansweredBefore - 1);
    // A real answer is never overwritten.
    cache.store(key, 'gpt-4.1-nano', { ok: false, raw: 'x', reason: 'y', usage: { promptTokens: 0, completionTokens: 0, cachedTokens: 0 } }, 'later');
    await cache.flush();
    expect(await cache.lookup(key)).toMatchObject({ ok: true });
  });
});

describe('parseJsonAnswer', () => {
  it('reads bare JSON, fenced JSON and JSON amid text; nothing else', () => {
    expect(parseJsonAnswer('{"voted": 1}')).toEqual({ voted: 1 });
    expect(parseJsonAnswer('```json\n{"voted": 0}\n```')).toEqual({ voted: 0 });
    expect(parseJsonAnswer('Sure: {"voted": 1} hope this helps')).toEqual({ voted: 1 });
    expect(parseJsonAnswer('{"engagement": [oops')).toBeUndefined();
    expect(parseJsonAnswer(null)).toBeUndefined();
  });
});
