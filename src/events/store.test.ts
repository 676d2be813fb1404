import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DatabaseError, StreamConflictError } from '../errors.js';
import { sha256 } from './canonical.js';
import { EventStore, eventHashInput, fingerprintOf, streamId } from './store.js';
import { makeEvent, type SimEvent } from '../domain/events.js';

let dir: string;
let store: EventStore;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sim-store-'));
  store = await EventStore.open(dir);
});
afterEach(async () => {
  await store.close().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

const like = (agent: number, post: number, round = 1): SimEvent => makeEvent('PostLiked', { postId: post }, round, agent);

async function newRun(): Promise<{ runId: number; stream: { id: string; name: string } }> {
  const runId = await store.createRun({ seed: 7, config: { n: 1 }, codeVersion: 'test', createdAt: '2026-01-01T00:00:00Z' });
  return { runId, stream: { id: streamId(runId, 'warmup'), name: 'warmup' } };
}

describe('EventStore append and read', () => {
  it('numbers events within the stream and reads them back in order with their payloads', async () => {
    const { runId, stream } = await newRun();
    store.append(runId, stream, 0, [like(1, 10), like(2, 10)]);
    store.append(runId, stream, 2, [makeEvent('VotingIntentionStated', { likelihood: 3 }, 1, 2)]);
    const events = [...store.readStream(stream.id)];
    expect(events.map((e) => [e.streamPosition, e.type, e.meta.agentId])).toEqual([
      [1, 'PostLiked', 1],
      [2, 'PostLiked', 2],
      [3, 'VotingIntentionStated', 2],
    ]);
    expect(events[2].data).toEqual({ likelihood: 3 });
    expect(store.head(stream.id).position).toBe(3);
  });

  it('chains hashes: each is sha256(previous hash + canonical event text)', async () => {
    const { runId, stream } = await newRun();
    const [first, second] = store.append(runId, stream, 0, [like(1, 10), like(2, 11)]);
    const expectedFirst = sha256('{"agentId":1,"data":{"postId":10},"round":1,"streamPosition":1,"type":"PostLiked","v":1}');
    expect(first.hash).toBe(expectedFirst);
    expect(second.hash).toBe(sha256(`${expectedFirst}{"agentId":2,"data":{"postId":11},"round":1,"streamPosition":2,"type":"PostLiked","v":1}`));
    expect(eventHashInput('', { streamPosition: 1, type: 'PostLiked', round: 1, agentId: 1, schemaVersion: 1 }, '{"postId":10}')).toContain('"postId":10');
  });

  it('refuses an append at a stale expected position and writes nothing', async () => {
    const { runId, stream } = await newRun();
    store.append(runId, stream, 0, [like(1, 10)]);
    expect(() => store.append(runId, stream, 0, [like(2, 10), like(3, 10)])).toThrow(StreamConflictError);
    expect([...store.readStream(stream.id)]).toHaveLength(1);
    expect(store.head(stream.id).position).toBe(1);
  });

  it('rolls back the whole batch, events and projection work, when the in-transaction step fails', async () => {
    const { runId, stream } = await newRun();
    expect(() =>
      store.append(runId, stream, 0, [like(1, 10)], () => {
        throw new Error('projection failed');
      }),
    ).toThrow('projection failed');
    expect([...store.readStream(stream.id)]).toHaveLength(0);
    expect(store.head(stream.id).position).toBe(0);
  });

  it('rejects an event whose payload does not fit its schema when reading back', async () => {
    const { runId, stream } = await newRun();
    store.append(runId, stream, 0, [like(1, 10)]);
    store.sqlite.prepare(`update events set payload = '{"postId":"ten"}'`).run();
    expect(() => [...store.readStream(stream.id)]).toThrow(/PostLiked payload invalid at postId/);
  });
});

describe('hash chain verification', () => {
  it('passes on an untouched stream and finds the first tampered payload', async () => {
    const { runId, stream } = await newRun();
    store.append(runId, stream, 0, [like(1, 10), like(2, 11), like(3, 12)]);
    expect(store.verifyStream(stream.id)).toBeNull();
    store.sqlite.prepare(`update events set payload = '{"postId":99}' where stream_position = 2`).run();
    expect(store.verifyStream(stream.id)).toMatchObject({ streamPosition: 2 });
    await expect(store.verifyRun(runId)).rejects.toThrow(/broken at stream position 2/);
  });

  it('rebuilds in SQL the very text the append hashed: agentless events, negative rounds, quotes and non-ASCII text', async () => {
    const { runId, stream } = await newRun();
    const events: SimEvent[] = [
      makeEvent('PostCreated', { postId: 1, authorId: 3, text: 'say "vote" \\ now – déjà 🗳️\n', topic: 'Politics', subtopic: 'x' }, -15, 3),
      makeEvent('RoundCompleted', { activeAgents: 1, fellBack: 0 }, -15, null),
      like(2, 1, -14),
    ];
    store.append(runId, stream, 0, events);
    expect(store.verifyStreams([stream.id])).toEqual({ streams: 1, events: 3 });
  });

  it('names the first event whose stored hash was replaced, and counts what it checked', async () => {
    const { runId, stream } = await newRun();
    store.append(runId, stream, 0, [like(1, 10), like(2, 11), like(3, 12)]);
    const [{ position }] = store.sqlite.prepare<[], { position: number }>('select position from events where stream_position = 2').all();
    store.sqlite.prepare(`update events set hash = '${'0'.repeat(64)}' where stream_position = 2`).run();
    expect(store.verifyStream(stream.id)).toEqual({ streamPosition: 2, position, reason: 'hash does not match its contents and predecessor' });
    expect(() => store.verifyStreams([stream.id])).toThrow(`${store.file}: stream ${stream.id} is broken at stream position 2 (event ${position}): hash does not match its contents and predecessor`);
  });

  it('detects a deleted event', async () => {
    const { runId, stream } = await newRun();
    store.append(runId, stream, 0, [like(1, 10), like(2, 11), like(3, 12)]);
    store.sqlite.prepare('delete from events where stream_position = 2').run();
    expect(store.verifyStream(stream.id)).toMatchObject({ streamPosition: 2, reason: expect.stringMatching(/missing/) });
  });
});

describe('fingerprints', () => {
  it('are equal for the same events recorded under different run ids and differ when one event differs', async () => {
    const a = await newRun();
    const b = await newRun();
    const c = await newRun();
    store.append(a.runId, a.stream, 0, [like(1, 10), like(2, 11)]);
    store.append(b.runId, b.stream, 0, [like(1, 10), like(2, 11)]);
    store.append(c.runId, c.stream, 0, [like(1, 10), like(2, 12)]);
    expect(await store.fingerprint(a.runId)).toBe(await store.fingerprint(b.runId));
    expect(await store.fingerprint(a.runId)).not.toBe(await store.fingerprint(c.runId));
    expect(fingerprintOf([{ name: 'b', hash: '2' }, { name: 'a', hash: '1' }])).toBe(fingerprintOf([{ name: 'a', hash: '1' }, { name: 'b', hash: '2' }]));
  });

  it('are listed by listRuns with event counts', async () => {
    const { runId, stream } = await newRun();
    store.append(runId, stream, 0, [like(1, 10), makeEvent('RoundCompleted', { activeAgents: 1, fellBack: 0 }, -3)]);
    const [summary] = await store.listRuns();
    // Recorded as running, but no live process holds it: it was interrupted.
    expect(summary).toMatchObject({ id: runId, seed: 7, status: 'interrupted', events: 2, lastRound: -3, fellBack: 0 });
    expect(summary.fingerprint).toBe(await store.fingerprint(runId));
  });
});

describe('failures are reported, and nothing written is lost', () => {
  it('a full disk (SQLITE_FULL) names the file, rolls back the batch and keeps earlier events', async () => {
    const { runId, stream } = await newRun();
    store.append(runId, stream, 0, [like(1, 10)]);
    const pages = Number(store.sqlite.pragma('page_count', { simple: true }));
    store.sqlite.pragma(`max_page_count = ${pages}`);
    const big = Array.from({ length: 2000 }, (_, i) => makeEvent('PostReplied', { postId: i, text: 'x'.repeat(140) }, 1, i));
    let error: unknown;
    try {
      store.append(runId, stream, 1, big);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DatabaseError);
    expect((error as Error).message).toMatch(/sim\.db: .*disk is full \(SQLITE_FULL\)/);
    expect((error as Error).message.split('\n')).toHaveLength(1);
    expect([...store.readStream(stream.id)]).toHaveLength(1);
    expect(store.verifyStream(stream.id)).toBeNull();
  });
});

describe('opening databases', () => {
  it('refuses a file that is not SQLite and leaves it byte for byte unchanged', async () => {
    const other = mkdtempSync(join(tmpdir(), 'sim-foreign-'));
    const file = join(other, 'sim.db');
    const content = 'user_id,age\n1,34\n'.repeat(100);
    writeFileSync(file, content);
    await expect(EventStore.open(other)).rejects.toThrow(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not a SQLite database`));
    expect(readFileSync(file, 'utf8')).toBe(content);
    rmSync(other, { recursive: true, force: true });
  });

  it('reports a corrupt SQLite file (valid header, garbage after) as corrupt, naming the file', async () => {
    const other = mkdtempSync(join(tmpdir(), 'sim-corrupt-'));
    const file = join(other, 'sim.db');
    const content = Buffer.concat([Buffer.from('SQLite format 3\u0000'), Buffer.alloc(4096, 0xab)]);
    writeFileSync(file, content);
    await expect(EventStore.open(other)).rejects.toThrow(/sim\.db: .*(corrupt|not a sim database)/);
    expect(readFileSync(file).equals(content)).toBe(true);
    rmSync(other, { recursive: true, force: true });
  });

  it('names the path when the output directory cannot be created', async () => {
    const other = mkdtempSync(join(tmpdir(), 'sim-notdir-'));
    writeFileSync(join(other, 'plainfile'), 'x');
    await expect(EventStore.open(join(other, 'plainfile', 'out'))).rejects.toThrow(/plainfile\/out\/sim\.db: cannot create its directory/);
    rmSync(other, { recursive: true, force: true });
  });
});
