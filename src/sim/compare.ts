import type { EventStore } from './store.js';
import type { StoredRow } from '../events/port.js';

/** The first place two recordings of the same experiment differ. */
export interface Divergence {
  stream: string;
  streamPosition: number;
  round: number | null;
  agentId: number | null;
  type: { expected: string | null; actual: string | null };
  payload: { expected: string | null; actual: string | null };
}

/**
 * Compares two runs stream by stream (matched by name), event by event. Fields are compared as
 * well as hashes, so an edited row whose stored hash was left alone is still caught.
 */
export async function firstDivergence(a: EventStore, runA: number, b: EventStore, runB: number): Promise<Divergence | null> {
  const streamsA = new Map((await a.runStreams(runA)).map((s) => [s.name, s.streamId]));
  const streamsB = new Map((await b.runStreams(runB)).map((s) => [s.name, s.streamId]));
  const names = [...new Set([...streamsA.keys(), ...streamsB.keys()])].sort();
  for (const name of names) {
    const left = streamsA.has(name) ? rows(a.rawEvents(streamsA.get(name)!)) : rows([]);
    const right = streamsB.has(name) ? rows(b.rawEvents(streamsB.get(name)!)) : rows([]);
    for (let position = 1; ; position++) {
      const x = await left.next();
      const y = await right.next();
      if (x.done && y.done) break;
      const ex = x.done ? null : (x.value as StoredRow);
      const ac = y.done ? null : (y.value as StoredRow);
      if (ex && ac && sameEvent(ex, ac)) continue;
      const some = (ex ?? ac)!;
      await left.return(undefined);
      await right.return(undefined);
      return {
        stream: name,
        streamPosition: position,
        round: some.round,
        agentId: some.agent_id,
        type: { expected: ex?.type ?? null, actual: ac?.type ?? null },
        payload: { expected: ex?.payload ?? null, actual: ac?.payload ?? null },
      };
    }
  }
  return null;
}

function sameEvent(a: StoredRow, b: StoredRow): boolean {
  return a.hash === b.hash && a.payload === b.payload && a.type === b.type && a.round === b.round && a.agent_id === b.agent_id;
}

/** One row at a time from pages of rows. */
async function* rows(pages: AsyncIterable<StoredRow[]> | StoredRow[][]): AsyncGenerator<StoredRow> {
  for await (const page of pages) yield* page;
}
