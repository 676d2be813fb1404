import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeEvent, type SimEvent } from '../src/domain/events.js';
import { streamDivergence } from '../src/sim/compare.js';
import { EventStore } from '../src/sim/store.js';
import { sqliteOf } from './helpers.js';

/**
 * A replay compares each replayed stream with the recording. Between two SQLite files the store
 * finds the first differing position inside SQLite (Store.firstDifference) and only the rows from
 * there are read; the divergence named must be the one the row-by-row comparison names (the same
 * comparison run on a store without firstDifference is the reference here), at the positions
 * computed by hand below.
 */
const STREAM = 'run/1/control';
const N = 300;
let dir: string;
let a: EventStore;
let b: EventStore;

/** Event i (1-based): every third names an agent, so agent ids and nulls both occur. */
function eventAt(i: number): SimEvent {
  return i % 3 === 0 ? makeEvent('PostLiked', { postId: i }, 10 + Math.floor(i / 10), i % 7) : makeEvent('RoundCompleted', { activeAgents: i, fellBack: 0 }, 10 + Math.floor(i / 10));
}

async function storeWith(name: string, count: number): Promise<EventStore> {
  const store = await EventStore.open(join(dir, name));
  await store.createRun({ id: 1, seed: 1, config: {}, codeVersion: 'test', createdAt: 'now' });
  const events = Array.from({ length: count }, (_, i) => eventAt(i + 1));
  await store.append({ runId: 1, stream: { id: STREAM, name: 'control' }, expectedPosition: 0, events });
  return store;
}

/** The comparison as other backends do it: every row read and compared in JavaScript. */
function rowByRow(store: EventStore): EventStore {
  return Object.create(store, { firstDifference: { value: undefined } }) as EventStore;
}

async function both(): Promise<{ fast: unknown; reference: unknown }> {
  const fast = await streamDivergence(a, STREAM, b, STREAM, 'control');
  const reference = await streamDivergence(rowByRow(a), STREAM, rowByRow(b), STREAM, 'control');
  return { fast, reference };
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sim-compare-'));
  a = await storeWith('a', N);
  b = await storeWith('b', N);
});

afterEach(async () => {
  await a.close();
  await b.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('comparing two SQLite recordings of a stream', () => {
  it('finds none when every row is equal', async () => {
    expect(await a.firstDifference!(STREAM, b, STREAM)).toBeNull();
    expect(await both()).toEqual({ fast: null, reference: null });
  });

  it('names an edited payload whose hash was left alone, at its position', async () => {
    sqliteOf(b).sqlite.prepare('update events set payload = ? where stream_id = ? and stream_position = ?').run('{"activeAgents":999,"fellBack":0}', STREAM, 137);
    expect(await a.firstDifference!(STREAM, b, STREAM)).toBe(137);
    const { fast, reference } = await both();
    expect(fast).toEqual(reference);
    expect(fast).toMatchObject({ stream: 'control', streamPosition: 137, type: { expected: 'RoundCompleted', actual: 'RoundCompleted' }, payload: { expected: '{"activeAgents":137,"fellBack":0}', actual: '{"activeAgents":999,"fellBack":0}' } });
  });

  it('names a changed agent id (null on one side) and a changed round', async () => {
    sqliteOf(a).sqlite.prepare('update events set agent_id = null where stream_id = ? and stream_position = ?').run(STREAM, 201);
    sqliteOf(b).sqlite.prepare('update events set round = 99 where stream_id = ? and stream_position = ?').run(STREAM, 250);
    expect(await a.firstDifference!(STREAM, b, STREAM)).toBe(201);
    const { fast, reference } = await both();
    expect(fast).toEqual(reference);
    expect(fast).toMatchObject({ streamPosition: 201, agentId: null, round: 30 });
  });

  it('names a row deleted from the middle of one side as the row-by-row comparison does', async () => {
    sqliteOf(a).sqlite.prepare('delete from events where stream_id = ? and stream_position = ?').run(STREAM, 50);
    expect(await a.firstDifference!(STREAM, b, STREAM)).toBe(50);
    const { fast, reference } = await both();
    expect(fast).toEqual(reference);
    // Row by row, the 50th row of a is its event 51: it differs from b's event 50 there.
    expect(fast).toMatchObject({ streamPosition: 50, payload: { expected: '{"postId":51}', actual: '{"activeAgents":50,"fellBack":0}' } });
  });

  it('names the first extra event of the longer stream, on either side', async () => {
    await b.append({ runId: 1, stream: { id: STREAM, name: 'control' }, expectedPosition: N, events: [eventAt(N + 1), eventAt(N + 2)] });
    expect(await a.firstDifference!(STREAM, b, STREAM)).toBe(N + 1);
    expect(await b.firstDifference!(STREAM, a, STREAM)).toBe(N + 1);
    const { fast, reference } = await both();
    expect(fast).toEqual(reference);
    expect(fast).toMatchObject({ streamPosition: N + 1, type: { expected: null, actual: 'RoundCompleted' }, payload: { expected: null } });
  });
});
