import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeServer, type FakeServer } from '../../test/support/fake-openai-server.js';
import { persona } from '../../test/support/world.js';
import type { TurnRequest, VoteRequest } from '../domain/decision.js';
import { CacheMissError } from '../errors.js';
import { EventStore } from '../events/store.js';
import { LlmCache } from './cache.js';
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
const provider = (extra: Partial<ConstructorParameters<typeof OpenAiProvider>[0]> = {}) =>
  new OpenAiProvider({ apiKey: 'k', baseURL: server.url, concurrency: 4, cache: new LlmCache(store.sqlite), backoffMs: 5, ...extra });

describe('OpenAiProvider', () => {
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

  it('with cache-only, a miss is an error and no request is made', async () => {
    const before = server.requests;
    await expect(provider({ cacheOnly: true }).decide(vote(77))).rejects.toThrow(CacheMissError);
    expect(server.requests).toBe(before);
  });

  it('retries rate limits and server errors until an answer comes', async () => {
    server.setOptions({ faults: { rateLimit: 0.3, serverError: 0.2 } });
    const p = provider({ maxAttempts: 12 });
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => p.decide(turn(100 + i))));
    server.setOptions({});
    expect(answers.every((a) => a.ok)).toBe(true);
    expect(p.stats().retries).toBeGreaterThan(0);
  });

  it('honours retry-after on 429', async () => {
    server.setOptions({ faults: { rateLimit: 1 }, retryAfterSeconds: 0.3 });
    const p = provider({ maxAttempts: 2 });
    const started = Date.now();
    const answer = await p.decide(turn(200));
    server.setOptions({});
    expect(answer.ok).toBe(false);
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

  it('gives up on a hanging server after its timeout, and says why', async () => {
    server.setOptions({ faults: { hang: 1 } });
    const answer = await provider({ timeoutMs: 100, maxAttempts: 2 }).decide(vote(500));
    server.setOptions({});
    expect(answer.ok).toBe(false);
    expect(answer.ok ? '' : answer.reason).toMatch(/no answer after 2 attempts/);
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
