import { hostname } from 'node:os';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { makeEvent, eventCodec, type SimEvent } from '../domain/events.js';
import { RunBusyError, StreamConflictError } from '../errors.js';
import { sha256 } from './canonical.js';
import { eventHashInput, fingerprintOf } from './hash-chain.js';
import { acquireLease, HEARTBEAT_MS, LEASE_EXPIRY_MS, releaseLease } from './leases.js';
import type { CacheRow, ProjectionOp, Recorded, Store } from './port.js';
import { streamId } from './stream-ids.js';
import { storeBackends, type Backend, type TestStore } from '../../test/support/store-backends.js';

/**
 * The contract every backend keeps (docs/storage.md), run against each of them: SQLite always,
 * PostgreSQL when a server is given (SIM_TEST_PG_URL; required under CI).
 */
const like = (agent: number, post: number, round = 1): SimEvent => makeEvent('PostLiked', { postId: post }, round, agent);

async function readAll<E extends SimEvent>(store: Store<E>, stream: string, range?: { from?: number; to?: number }): Promise<Array<Recorded<E>>> {
  const out: Array<Recorded<E>> = [];
  for await (const page of store.readStream(stream, range)) out.push(...page);
  return out;
}

const backends = storeBackends();
for (const b of backends) if (b.skip) console.warn(`store contract on ${b.name} skipped: ${b.skip}`);
afterAll(async () => {
  for (const b of backends) await b.dispose?.();
});

describe.each(backends)('the store contract on $name', (backend: Backend) => {
  describe.skipIf(backend.skip !== null)(`${backend.name}${backend.skip ? ` (skipped: ${backend.skip})` : ''}`, () => {
    let t: TestStore;
    let store: Store<SimEvent>;
    beforeEach(async () => {
      t = await backend.create();
      store = t.store;
    });
    afterEach(async () => {
      await t.dispose();
    });

    async function newRun(): Promise<{ runId: number; stream: { id: string; name: string } }> {
      const runId = await store.createRun({ seed: 7, config: { n: 1 }, codeVersion: 'test', createdAt: '2026-01-01T00:00:00Z' });
      return { runId, stream: { id: streamId(runId, 'warmup'), name: 'warmup' } };
    }

    describe('append and read', () => {
      it('numbers events within the stream and reads them back in order with their payloads', async () => {
        const { runId, stream } = await newRun();
        await store.append({ runId, stream, expectedPosition: 0, events: [like(1, 10), like(2, 10)] });
        await store.append({ runId, stream, expectedPosition: 2, events: [makeEvent('VotingIntentionStated', { likelihood: 3 }, 1, 2)] });
        const events = await readAll(store, stream.id);
        expect(events.map((e) => [e.streamPosition, e.type, e.meta.agentId])).toEqual([
          [1, 'PostLiked', 1],
          [2, 'PostLiked', 2],
          [3, 'VotingIntentionStated', 2],
        ]);
        expect(events[2].data).toEqual({ likelihood: 3 });
        expect(await store.head(stream.id)).toEqual({ position: 3, hash: events[2].hash });
        expect(await store.lastEventType(stream.id)).toBe('VotingIntentionStated');
        // Global positions increase in commit order (they may have gaps).
        expect(events[1].position).toBeGreaterThan(events[0].position);
        expect(events[2].position).toBeGreaterThan(events[1].position);
      });

      it('chains hashes: each is sha256(previous hash + canonical event text)', async () => {
        const { runId, stream } = await newRun();
        const [first, second] = await store.append({ runId, stream, expectedPosition: 0, events: [like(1, 10), like(2, 11)] });
        const expectedFirst = sha256('{"agentId":1,"data":{"postId":10},"round":1,"streamPosition":1,"type":"PostLiked","v":1}');
        expect(first.hash).toBe(expectedFirst);
        expect(second.hash).toBe(sha256(`${expectedFirst}{"agentId":2,"data":{"postId":11},"round":1,"streamPosition":2,"type":"PostLiked","v":1}`));
        expect(eventHashInput('', { streamPosition: 1, type: 'PostLiked', round: 1, agentId: 1, schemaVersion: 1 }, '{"postId":10}')).toContain('"postId":10');
      });

      it('refuses an append at a stale expected position and writes nothing', async () => {
        const { runId, stream } = await newRun();
        await store.append({ runId, stream, expectedPosition: 0, events: [like(1, 10)] });
        await expect(store.append({ runId, stream, expectedPosition: 0, events: [like(2, 10), like(3, 10)] })).rejects.toThrow(StreamConflictError);
        await expect(store.append({ runId, stream, expectedPosition: 5, events: [like(2, 10)] })).rejects.toThrow(/expected to append after position 5, but it is at 1/);
        expect(await readAll(store, stream.id)).toHaveLength(1);
        expect((await store.head(stream.id)).position).toBe(1);
      });

      it('lets exactly one of two concurrent appenders at the same position in, on separate connections', async () => {
        const { runId, stream } = await newRun();
        await store.append({ runId, stream, expectedPosition: 0, events: [like(1, 10)] });
        const other = await t.reopen();
        try {
          const batch = (agent: number) => Array.from({ length: 300 }, (_, i) => like(agent, i));
          const results = await Promise.allSettled([
            store.append({ runId, stream, expectedPosition: 1, events: batch(1) }),
            other.append({ runId, stream, expectedPosition: 1, events: batch(2) }),
            store.append({ runId, stream, expectedPosition: 1, events: batch(3) }),
            other.append({ runId, stream, expectedPosition: 1, events: batch(4) }),
          ]);
          const won = results.filter((r) => r.status === 'fulfilled');
          const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
          expect(won).toHaveLength(1);
          expect(lost).toHaveLength(3);
          for (const r of lost) expect(r.reason).toBeInstanceOf(StreamConflictError);
          const events = await readAll(store, stream.id);
          expect(events).toHaveLength(301);
          expect(events.map((e) => e.streamPosition)).toEqual(Array.from({ length: 301 }, (_, i) => i + 1));
          expect(await store.verifyStream(stream.id)).toBeNull();
        } finally {
          await other.close();
        }
      });

      it('reads a range of a stream (so a stream can be folded up to any round), across page boundaries', async () => {
        const { runId, stream } = await newRun();
        const events = Array.from({ length: 9000 }, (_, i) => like(i % 50, i, Math.floor(i / 1000)));
        await store.append({ runId, stream, expectedPosition: 0, events });
        const all = await readAll(store, stream.id);
        expect(all.map((e) => e.streamPosition)).toEqual(Array.from({ length: 9000 }, (_, i) => i + 1));
        const middle = await readAll(store, stream.id, { from: 4095, to: 8200 });
        expect(middle.map((e) => e.streamPosition)).toEqual(Array.from({ length: 8200 - 4095 + 1 }, (_, i) => 4095 + i));
        expect(await readAll(store, stream.id, { to: 3 })).toHaveLength(3);
        expect(await readAll(store, stream.id, { from: 8999 })).toHaveLength(2);
        let raw = 0;
        for await (const page of store.rawEvents(stream.id)) raw += page.length;
        expect(raw).toBe(9000);
      });

      it('rolls back the whole batch (events, projection and cache rows) when part of it fails', async () => {
        const { runId, stream } = await newRun();
        const ok: CacheRow = { key: 'k1', model: 'm', response: '{}', promptTokens: 1, completionTokens: 2, cachedTokens: 0, createdAt: 'now' };
        const bad = { ...ok, key: "k0", model: null } as unknown as CacheRow;
        await expect(
          store.append({ runId, stream, expectedPosition: 0, events: [like(1, 10)], projections: [{ op: 'agent', stream: stream.id, agentId: 1, eligible: 1 }], cache: [ok, bad] }),
        ).rejects.toThrow();
        expect(await readAll(store, stream.id)).toHaveLength(0);
        expect((await store.head(stream.id)).position).toBe(0);
        expect(await store.projectedAgents(stream.id)).toEqual([]);
        expect(await store.cacheGet('k1')).toBeNull();
      });

      it('writes projection and cache rows with the batch', async () => {
        const { runId, stream } = await newRun();
        const ops: ProjectionOp[] = [
          { op: 'persona', runId, agentId: 1, age: 30, persona: '{"id":1}' },
          { op: 'agent', stream: stream.id, agentId: 1, eligible: 1 },
          { op: 'addToAgent', stream: stream.id, agentId: 1, following: 2, followers: 1, liked: 1, replied: 0, posted: 0, seen: 3, lastLikelihood: 4, voted: null },
          { op: 'round', stream: stream.id, agentId: 1, round: 1, active: 1, likelihood: 4, engagement: 1 },
          { op: 'round', stream: stream.id, agentId: 1, round: 1, active: 0, likelihood: null, engagement: 2 },
          { op: 'treat', stream: stream.id, agentId: 1, period: 1, message: 'social' },
        ];
        const row: CacheRow = { key: 'k2', model: 'm', response: '{"ok":true}', promptTokens: 5, completionTokens: 6, cachedTokens: 1, createdAt: 'now' };
        await store.append({ runId, stream, expectedPosition: 0, events: [like(1, 10)], projections: ops, cache: [row] });
        expect(await store.personas(runId)).toEqual([{ agentId: 1, persona: '{"id":1}' }]);
        expect(await store.projectedAgents(stream.id)).toEqual([
          { agentId: 1, eligible: 1, following: 2, followers: 1, liked: 1, replied: 0, posted: 0, seen: 3, lastLikelihood: 4, treated: 1, voted: null },
        ]);
        expect(await store.projectedRounds(stream.id)).toEqual([{ agentId: 1, round: 1, active: 1, likelihood: 4, engagement: 3 }]);
        expect(await store.projectedTreatment(stream.id)).toEqual([{ agentId: 1, period: 1 }]);
        expect(await store.cacheGet('k2')).toEqual(row);
        // Many keys in one read: the cached ones come back by key, the others are absent.
        const other: CacheRow = { ...row, key: 'k3', response: '{"ok":false}' };
        await store.cachePut([other]);
        expect(await store.cacheGetMany(['k3', 'missing', 'k2'])).toEqual(new Map([['k3', other], ['k2', row]]));
        expect(await store.cacheGetMany([])).toEqual(new Map());
      });

      it('applies long runs of per-user rows in order: more than one statement of rows, a user twice in a run, a user absent from the stream', async () => {
        const { runId, stream } = await newRun();
        const add = (agentId: number, liked: number, lastLikelihood: number | null): ProjectionOp => ({
          op: 'addToAgent',
          stream: stream.id,
          agentId,
          following: 0,
          followers: 1,
          liked,
          replied: 0,
          posted: 0,
          seen: 2,
          lastLikelihood,
          voted: null,
        });
        const ops: ProjectionOp[] = [];
        for (let a = 1; a <= 150; a++) ops.push({ op: 'agent', stream: stream.id, agentId: a, eligible: a % 2 });
        // Users 1..150 once each, then user 7 again (its two adds sum), then user 999, who has no row.
        for (let a = 1; a <= 150; a++) ops.push(add(a, a, a === 7 ? 2 : null));
        ops.push(add(7, 10, 5), add(999, 1, 1));
        // Rounds: users 1..140 in round 3, then user 5's round 3 again (upserted: active kept, engagement summed).
        for (let a = 1; a <= 140; a++) ops.push({ op: 'round', stream: stream.id, agentId: a, round: 3, active: 1, likelihood: a === 5 ? 4 : null, engagement: 1 });
        ops.push({ op: 'round', stream: stream.id, agentId: 5, round: 3, active: 0, likelihood: null, engagement: 2 });
        await store.append({ runId, stream, expectedPosition: 0, events: [like(1, 10)], projections: ops });
        const agents = await store.projectedAgents(stream.id);
        expect(agents).toHaveLength(150);
        expect(agents[0]).toEqual({ agentId: 1, eligible: 1, following: 0, followers: 1, liked: 1, replied: 0, posted: 0, seen: 2, lastLikelihood: null, treated: 0, voted: null });
        expect(agents[6]).toEqual({ agentId: 7, eligible: 1, following: 0, followers: 2, liked: 17, replied: 0, posted: 0, seen: 4, lastLikelihood: 5, treated: 0, voted: null });
        expect(agents[149]).toEqual({ agentId: 150, eligible: 0, following: 0, followers: 1, liked: 150, replied: 0, posted: 0, seen: 2, lastLikelihood: null, treated: 0, voted: null });
        expect(agents.reduce((sum, a) => sum + a.liked, 0)).toBe((150 * 151) / 2 + 10);
        const rounds = await store.projectedRounds(stream.id);
        expect(rounds).toHaveLength(140);
        expect(rounds[4]).toEqual({ agentId: 5, round: 3, active: 1, likelihood: 4, engagement: 3 });
        expect(rounds.filter((r) => r.engagement === 1)).toHaveLength(139);
      });

      it('rejects an event whose payload does not fit its schema when reading back', async () => {
        const { runId, stream } = await newRun();
        await store.append({ runId, stream, expectedPosition: 0, events: [like(1, 10)] });
        await t.exec(`update events set payload = '{"postId":"ten"}'`);
        await expect(readAll(store, stream.id)).rejects.toThrow(/PostLiked payload invalid at postId/);
      });

      it('selects rows by type and round, the last round of a type, and counts matching events of a run', async () => {
        const { runId, stream } = await newRun();
        await store.append({
          runId,
          stream,
          expectedPosition: 0,
          events: [like(1, 10, 1), makeEvent('RoundCompleted', { activeAgents: 1, fellBack: 0 }, 1), like(2, 11, 2), makeEvent('RoundCompleted', { activeAgents: 1, fellBack: 0 }, 2), makeEvent('StageCompleted', { stage: 'election' }, 3)],
        });
        const rows: string[] = [];
        for await (const page of store.eventsOfTypes(stream.id, ['PostLiked'], { beforeRound: 2 })) rows.push(...page.map((r) => r.payload));
        expect(rows).toEqual(['{"postId":10}']);
        expect(await store.maxRoundOf(stream.id, 'RoundCompleted')).toBe(2);
        expect(await store.maxRoundOf(stream.id, 'VoteCast')).toBeNull();
        expect(await store.countRunEvents(runId, [{ type: 'RoundCompleted' }, { type: 'StageCompleted', payload: '{"stage":"election"}' }])).toBe(3);
      });

      it('gives each stream of a run its head, last round, last event type and fallbacks, without reading its events', async () => {
        const { runId, stream } = await newRun();
        const fellBack = (agent: number, round: number) => makeEvent('DecisionFellBack', { purpose: 'turn', field: 'answer', reason: 'not JSON', raw: 'x' }, round, agent);
        const control = { id: streamId(runId, 'control'), name: 'control' };
        const done = makeEvent('RoundCompleted', { activeAgents: 2, fellBack: 1 }, 1);
        await store.append({ runId, stream, expectedPosition: 0, events: [like(1, 10, 1), fellBack(2, 1), done, like(1, 11, 2), fellBack(1, 2), fellBack(2, 2), makeEvent('RoundCompleted', { activeAgents: 2, fellBack: 2 }, 2), like(2, 12, 3)] });
        await store.append({ runId, stream: control, expectedPosition: 0, events: [like(1, 10, 1), done, makeEvent('StageCompleted', { stage: 'election' }, 2)] });
        const [c, w] = await store.runProgress([runId]);
        expect(c).toEqual({ runId, streamId: control.id, name: 'control', position: 3, hash: (await store.head(control.id)).hash, lastRound: 1, lastType: 'StageCompleted', fellBack: 0, lastEvent: { position: 3, hash: (await store.head(control.id)).hash } });
        // The stream in progress: round 3 begun, not complete.
        expect(w).toEqual({ runId, streamId: stream.id, name: stream.name, position: 8, hash: (await store.head(stream.id)).hash, lastRound: 2, lastType: 'PostLiked', fellBack: 3, lastEvent: { position: 8, hash: (await store.head(stream.id)).hash } });
        expect(await store.runProgress([runId + 1000])).toEqual([]);
        expect(await store.runProgress([])).toEqual([]);
        // Several runs in one query, by run then name.
        const other = await newRun();
        await store.append({ runId: other.runId, stream: other.stream, expectedPosition: 0, events: [like(1, 10, 1)] });
        expect((await store.runProgress([other.runId, runId])).map((p) => [p.runId, p.name, p.position])).toEqual([[runId, 'control', 3], [runId, 'warmup', 8], [other.runId, 'warmup', 1]]);
      });
    });

    describe('hash chain verification', () => {
      it('passes on an untouched stream and finds the first tampered payload', async () => {
        const { runId, stream } = await newRun();
        await store.append({ runId, stream, expectedPosition: 0, events: [like(1, 10), like(2, 11), like(3, 12)] });
        expect(await store.verifyStream(stream.id)).toBeNull();
        expect(await store.headMismatch(stream.id)).toBeNull();
        await t.exec(`update events set payload = '{"postId":99}' where stream_position = 2`);
        expect(await store.verifyStream(stream.id)).toMatchObject({ streamPosition: 2 });
        await expect(store.verifyStreams([stream.id])).rejects.toThrow(/broken at stream position 2/);
      });

      it('rebuilds in SQL the very text the append hashed: agentless events, negative rounds, quotes and non-ASCII text', async () => {
        const { runId, stream } = await newRun();
        const events: SimEvent[] = [
          makeEvent('PostCreated', { postId: 1, authorId: 3, text: 'say "vote" \\ now – déjà 🗳️\n\t\u0001', topic: 'Politics', subtopic: 'x' }, -15, 3),
          makeEvent('RoundCompleted', { activeAgents: 1, fellBack: 0 }, -15, null),
          like(2, 1, -14),
        ];
        await store.append({ runId, stream, expectedPosition: 0, events });
        expect(await store.verifyStreams([stream.id])).toEqual({ streams: 1, events: 3 });
      });

      it('names the first event whose stored hash was replaced, and counts what it checked', async () => {
        const { runId, stream } = await newRun();
        const recorded = await store.append({ runId, stream, expectedPosition: 0, events: [like(1, 10), like(2, 11), like(3, 12)] });
        const position = recorded[1].position;
        await t.exec(`update events set hash = '${'0'.repeat(64)}' where stream_position = 2`);
        expect(await store.verifyStream(stream.id)).toEqual({ streamPosition: 2, position, reason: 'hash does not match its contents and predecessor' });
        await expect(store.verifyStreams([stream.id])).rejects.toThrow(`${store.location}: stream ${stream.id} is broken at stream position 2 (event ${position}): hash does not match its contents and predecessor`);
      });

      it('detects a deleted event, and a head that no longer matches', async () => {
        const { runId, stream } = await newRun();
        await store.append({ runId, stream, expectedPosition: 0, events: [like(1, 10), like(2, 11), like(3, 12)] });
        await t.exec('delete from events where stream_position = 2');
        expect(await store.verifyStream(stream.id)).toMatchObject({ streamPosition: 2, reason: expect.stringMatching(/missing/) });
        // The cheap check reads only the last event: an event taken out further back is for verifyStream.
        expect(await store.headMismatch(stream.id)).toBeNull();
        await t.exec('delete from events where stream_position = 3');
        expect(await store.headMismatch(stream.id)).toBe(`stream ${stream.id}: head says 3 events, its last event is at position 1`);
        await t.exec(`update events set hash = '${'0'.repeat(64)}' where stream_position = 1`);
        await t.exec(`update streams set last_position = 1 where stream_id = '${stream.id}'`);
        expect(await store.headMismatch(stream.id)).toBe(`stream ${stream.id}: head hash does not match its last event (position 1)`);
      });
    });

    describe('runs and fingerprints', () => {
      it('are equal for the same events recorded under different run ids and differ when one event differs', async () => {
        const a = await newRun();
        const b = await newRun();
        const c = await newRun();
        await store.append({ runId: a.runId, stream: a.stream, expectedPosition: 0, events: [like(1, 10), like(2, 11)] });
        await store.append({ runId: b.runId, stream: b.stream, expectedPosition: 0, events: [like(1, 10), like(2, 11)] });
        await store.append({ runId: c.runId, stream: c.stream, expectedPosition: 0, events: [like(1, 10), like(2, 12)] });
        expect(await store.fingerprint(a.runId)).toBe(await store.fingerprint(b.runId));
        expect(await store.fingerprint(a.runId)).not.toBe(await store.fingerprint(c.runId));
        expect(fingerprintOf([{ name: 'b', hash: '2' }, { name: 'a', hash: '1' }])).toBe(fingerprintOf([{ name: 'a', hash: '1' }, { name: 'b', hash: '2' }]));
      });

      it("adds up a run's LLM spend, refusing an addition that would pass a cap, and deletes it with the run", async () => {
        const a = await newRun();
        const b = await newRun();
        expect(await store.runSpend(a.runId)).toBe(0);
        // A run with no spend yet and an addition above the cap: refused, nothing recorded.
        expect(await store.addRunSpend(a.runId, 0.5, 0.25)).toEqual({ added: false, total: 0 });
        expect(await store.addRunSpend(a.runId, 0.25, 1)).toEqual({ added: true, total: 0.25 });
        expect(await store.addRunSpend(a.runId, 0.5, 1)).toEqual({ added: true, total: 0.75 });
        // 0.75 + 0.5 would pass 1: refused, the total unchanged.
        expect(await store.addRunSpend(a.runId, 0.5, 1)).toEqual({ added: false, total: 0.75 });
        // Exactly at the cap is within it; a negative adjustment (an estimate replaced by the cost) always goes in.
        expect(await store.addRunSpend(a.runId, 0.25, 1)).toEqual({ added: true, total: 1 });
        expect(await store.addRunSpend(a.runId, -0.5, 1)).toEqual({ added: true, total: 0.5 });
        expect(await store.addRunSpend(a.runId, 2)).toEqual({ added: true, total: 2.5 });
        expect(await store.runSpend(a.runId)).toBe(2.5);
        expect(await store.runSpend(b.runId)).toBe(0);
        await store.deleteRun(a.runId);
        expect(await store.runSpend(a.runId)).toBe(0);
      });

      it('keeps the catalogue: create, status, get, list, latest; a missing run is named', async () => {
        const first = await newRun();
        const second = await newRun();
        await store.setRunStatus(first.runId, 'finished');
        expect(await store.getRun(first.runId)).toMatchObject({ id: first.runId, seed: 7, config: { n: 1 }, codeVersion: 'test', status: 'finished' });
        expect((await store.listRunRows()).map((r) => r.id)).toEqual([first.runId, second.runId]);
        expect(await store.latestRunId()).toBe(second.runId);
        await expect(store.getRun(9999)).rejects.toThrow(/no run with id 9999/);
        await store.append({ runId: second.runId, stream: second.stream, expectedPosition: 0, events: [like(1, 1)] });
        await store.append({ runId: second.runId, stream: { id: streamId(second.runId, 'control'), name: 'control' }, expectedPosition: 0, events: [like(1, 1)] });
        expect((await store.runStreams(second.runId)).map((s) => [s.name, s.position])).toEqual([
          ['control', 1],
          ['warmup', 1],
        ]);
      });
    });

    describe('projections rebuilt', () => {
      it('replaces a run\'s rows with what the fold of its events gives, in one transaction', async () => {
        const { runId, stream } = await newRun();
        await store.append({ runId, stream, expectedPosition: 0, events: [like(1, 10), like(2, 10)], projections: [{ op: 'agent', stream: stream.id, agentId: 9, eligible: 0 }] });
        const seen: number[] = [];
        const n = await store.rebuildProjections(runId, [stream.id], (s, events) => {
          seen.push(...events.map((e) => e.streamPosition));
          return events.map((e) => ({ op: 'agent', stream: s, agentId: e.meta.agentId!, eligible: 1 }) as ProjectionOp);
        });
        expect(n).toBe(2);
        expect(seen).toEqual([1, 2]);
        expect((await store.projectedAgents(stream.id)).map((a) => a.agentId).sort()).toEqual([1, 2]);
      });
    });

    describe('the LLM cache', () => {
      const row = (key: string, response: string): CacheRow => ({ key, model: 'm', response, promptTokens: 1, completionTokens: 1, cachedTokens: 0, createdAt: 'now' });
      it('stores rows, keeps an existing key unless its response is replaceable, and counts', async () => {
        await store.cachePut([row('a', 'answer'), row('b', 'NOANSWER:1')]);
        await store.cachePut([row('a', 'other'), row('b', 'answer b')], 'NOANSWER:');
        expect((await store.cacheGet('a'))?.response).toBe('answer');
        expect((await store.cacheGet('b'))?.response).toBe('answer b');
        await store.cachePut([row('c', 'NOANSWER:2')]);
        expect(await store.cacheCount()).toBe(3);
        expect(await store.cacheCount('NOANSWER:')).toBe(1);
        expect(await store.cacheGet('zzz')).toBeNull();
      });

      it('reserves a request for one process at a time, until released or until that process closes the store (PostgreSQL; SQLite has one process)', async () => {
        if (!store.cacheReserve) {
          expect(backend.name).toMatch(/sqlite/i);
          return;
        }
        const other = await t.reopen();
        try {
          expect([...(await store.cacheReserve(['k1', 'k2']))].sort()).toEqual(['k1', 'k2']);
          // Held by this process: neither another process nor a second job of this one gets it.
          expect([...(await other.cacheReserve!(['k1', 'k3']))]).toEqual(['k3']);
          expect([...(await store.cacheReserve(['k2']))]).toEqual([]);
          await store.cacheRelease!(['k1']);
          expect([...(await other.cacheReserve!(['k1', 'k2']))]).toEqual(['k1']);
          // A process that ends (a dead worker's session) holds nothing any more.
          await other.close();
          expect([...(await store.cacheReserve(['k1', 'k3']))].sort()).toEqual(['k1', 'k3']);
        } finally {
          await other.close().catch(() => undefined);
        }
      });
    });

    describe('run leases', () => {
      let runId: number;
      beforeEach(async () => {
        runId = await store.createRun({ seed: 1, config: {}, codeVersion: 't', createdAt: 'now' });
      });
      afterEach(() => {
        vi.useRealTimers();
      });
      /** A pid no process has (above Linux's pid_max of 2^22). */
      const DEAD_PID = 2 ** 22 + 12345;
      /** Another process holding the run: another connection to the store, naming `pid` on `host`. */
      async function otherHolder(pid: number, host = hostname()): Promise<Store<SimEvent>> {
        const other = await t.reopen();
        const now = new Date().toISOString();
        expect(await other.claimRun({ runId, host, pid, acquiredAt: now, heartbeatAt: now })).toBeNull();
        return other;
      }
      const row = (host: string, pid: number, beat: string) =>
        t.exec(`insert into run_leases (run_id, host, pid, acquired_at, heartbeat_at) values (${runId}, '${host}', ${pid}, '${beat}', '${beat}')`);
      const ago = (ms: number) => new Date(Date.now() - ms).toISOString();

      it('refuse a second process while the holder is alive, naming it in one line; free once the holder releases', async () => {
        const other = await otherHolder(process.ppid);
        expect(await store.currentLease(runId)).toMatchObject({ pid: process.ppid, host: hostname() });
        await expect(acquireLease(store, runId, 'now')).rejects.toThrow(RunBusyError);
        await expect(acquireLease(store, runId, 'now')).rejects.toThrow(new RegExp(`^[^\\n]*: run ${runId} is being executed by process ${process.ppid} on ${hostname()} \\(since [^)]+\\); wait for it to finish or stop it, then \`sim resume ${runId}\`$`));
        await releaseLease(other, runId);
        expect(await store.currentLease(runId)).toBeNull();
        await acquireLease(store, runId, 'now');
        expect(await store.currentLease(runId)).toMatchObject({ pid: process.pid, host: hostname() });
        // The holder itself may take it again (a resume within the same process).
        await acquireLease(store, runId, 'again');
        await releaseLease(store, runId);
        expect(await store.currentLease(runId)).toBeNull();
      });

      it('are not blocked by a holder that ended without releasing (kill -9): its session or process is gone', async () => {
        const other = await otherHolder(DEAD_PID);
        // Closing without a release leaves what a killed process leaves: the row (SQLite), a dropped session (PostgreSQL).
        await other.close();
        expect(await t.reopen().then((s) => s.currentLease(runId))).toBeNull();
        await acquireLease(store, runId, 'now');
        expect(await store.currentLease(runId)).toMatchObject({ pid: process.pid });
      });

      it('are not blocked by a lease whose holder stopped renewing it, though its pid is alive (reused, zombie) or on another host', async () => {
        await row('some-other-host', 1, ago(10 * 60_000));
        expect(await store.currentLease(runId)).toBeNull();
        await acquireLease(store, runId, 'now');
        await releaseLease(store, runId);
        await row(hostname(), process.ppid, ago(LEASE_EXPIRY_MS + 5_000));
        expect(await store.currentLease(runId)).toBeNull();
        await acquireLease(store, runId, 'now');
      });

      it('a fresh lease of another host blocks: on SQLite its heartbeat, on PostgreSQL its session lock (a row alone is no lock)', async () => {
        if (store.backend === 'sqlite') {
          await row('some-other-host', 1, ago(2_000));
          await expect(acquireLease(store, runId, 'now')).rejects.toThrow(/by process 1 on some-other-host/);
        } else {
          await row('some-other-host', 1, ago(2_000));
          await acquireLease(store, runId, 'now');
          await releaseLease(store, runId);
          const other = await otherHolder(4242, 'some-other-host');
          await expect(acquireLease(store, runId, 'now')).rejects.toThrow(/by process 4242 on some-other-host/);
          await other.close();
          await acquireLease(store, runId, 'now');
        }
      });

      it('are renewed every few seconds while held, and no more once released', async () => {
        vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
        await acquireLease(store, runId, 'now');
        await t.exec(`update run_leases set heartbeat_at = '2000-01-01T00:00:00.000Z' where run_id = ${runId}`);
        const beat = async () => (await t.reopen().then((s) => s.currentLease(runId)))?.heartbeatAt ?? null;
        vi.advanceTimersByTime(HEARTBEAT_MS);
        await vi.waitFor(async () => expect(Date.parse((await beat()) ?? '')).toBeGreaterThan(Date.now() - 60_000), { timeout: 5_000 });
        expect(vi.getTimerCount()).toBe(1);
        await releaseLease(store, runId);
        expect(vi.getTimerCount()).toBe(0);
        expect(await store.currentLease(runId)).toBeNull();
      });
    });

    describe('opening', () => {
      it('creates every table on an empty store and opens it again without change', async () => {
        const again = await t.reopen();
        expect(await again.listRunRows()).toEqual([]);
      });

      it('refuses a store written by a newer sim, naming it', async () => {
        await t.exec(`insert into kysely_migration (name, timestamp) values ('9999_from_the_future', 'x')`);
        await expect(t.reopen()).rejects.toThrow(/written by a newer version of sim \(schema migration 9999_from_the_future is unknown here\); upgrade sim to open it/);
      });
    });
  });
});
