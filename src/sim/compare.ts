import { WARMUP_STREAM } from '../domain/config.js';
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
 * Compares two runs stream by stream (matched by name; the warmup, then the others in name order), event by event. Fields are
 * compared as well as hashes, so an edited row whose stored hash was left alone is still caught
 * (SQLite compares them in place, see Store.firstDifference; other backends' rows are read and compared here).
 * `known` holds streams already compared (e.g. by the worker thread that replayed them): their
 * results are used as they are.
 */
export async function firstDivergence(a: EventStore, runA: number, b: EventStore, runB: number, known: ReadonlyMap<string, Divergence | null> = new Map()): Promise<Divergence | null> {
  const streamsA = new Map((await a.runStreams(runA)).map((s) => [s.name, s.streamId]));
  const streamsB = new Map((await b.runStreams(runB)).map((s) => [s.name, s.streamId]));
  // The warmup first: every condition forks from its end, so a divergence there shows again in each
  // condition's first event, and naming that one would point away from where the runs parted.
  const names = [...new Set([...streamsA.keys(), ...streamsB.keys()])].sort((x, y) => Number(y === WARMUP_STREAM) - Number(x === WARMUP_STREAM) || (x < y ? -1 : x > y ? 1 : 0));
  for (const name of names) {
    const divergence = known.has(name) ? known.get(name)! : await streamDivergence(a, streamsA.get(name) ?? null, b, streamsB.get(name) ?? null, name);
    if (divergence) return divergence;
  }
  return null;
}

/** The first event where two recordings of one stream differ (an absent stream has no events), or null. */
export async function streamDivergence(a: EventStore, idA: string | null, b: EventStore, idB: string | null, name: string): Promise<Divergence | null> {
  // Two SQLite files: the store finds where they first differ without reading the rows out (equal
  // rows up to there, so positions 1..from-1 exist on both sides); the rows are read from there to
  // name the divergence exactly as the full comparison below does.
  let from = 1;
  if (idA !== null && idB !== null && a.backend === 'sqlite' && b.backend === 'sqlite' && a.firstDifference) {
    const first = await a.firstDifference(idA, b, idB);
    if (first === null) return null;
    if (first >= 1) from = first;
  }
  const range = { from };
  const left = new Cursor(idA !== null ? a.rawEvents(idA, range) : []);
  const right = new Cursor(idB !== null ? b.rawEvents(idB, range) : []);
  try {
    for (let position = from; ; position++) {
      // A page's rows are taken without awaiting (millions of rows in a large run).
      const ex = left.hasRow() ? left.take() : await left.nextPage();
      const ac = right.hasRow() ? right.take() : await right.nextPage();
      if (ex === null && ac === null) return null;
      if (ex && ac && sameEvent(ex, ac)) continue;
      const some = (ex ?? ac)!;
      return {
        stream: name,
        streamPosition: position,
        round: some.round,
        agentId: some.agent_id,
        type: { expected: ex?.type ?? null, actual: ac?.type ?? null },
        payload: { expected: ex?.payload ?? null, actual: ac?.payload ?? null },
      };
    }
  } finally {
    await left.close();
    await right.close();
  }
}

/** Rows of a stream a page at a time, handed out one by one. */
class Cursor {
  private page: StoredRow[] = [];
  private i = 0;
  private readonly pages: AsyncIterator<StoredRow[]> | Iterator<StoredRow[]>;

  constructor(pages: AsyncIterable<StoredRow[]> | StoredRow[][]) {
    this.pages = Symbol.asyncIterator in pages ? pages[Symbol.asyncIterator]() : pages[Symbol.iterator]();
  }

  hasRow(): boolean {
    return this.i < this.page.length;
  }

  take(): StoredRow {
    return this.page[this.i++];
  }

  /** The first row of the next non-empty page, or null at the end. */
  async nextPage(): Promise<StoredRow | null> {
    for (;;) {
      const next = await this.pages.next();
      if (next.done) return null;
      this.page = next.value;
      this.i = 0;
      if (this.page.length > 0) return this.take();
    }
  }

  async close(): Promise<void> {
    await this.pages.return?.(undefined);
  }
}

function sameEvent(a: StoredRow, b: StoredRow): boolean {
  return a.hash === b.hash && a.payload === b.payload && a.type === b.type && a.round === b.round && a.agent_id === b.agent_id;
}
