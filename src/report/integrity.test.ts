import { describe, expect, it } from 'vitest';
import { IntegrityError } from '../errors.js';
import { requireChains, verifyChains, type ChainSource } from './integrity.js';

/** A store whose streams hold the given numbers of events; `bad` breaks one stream at a position. */
function source(events: Record<string, number>, bad?: { stream: string; streamPosition: number; position: number }): ChainSource {
  const breakOf = (id: string) => (bad?.stream === id ? { streamPosition: bad.streamPosition, position: bad.position, reason: 'hash does not match its contents and predecessor' } : null);
  return {
    location: 'out/sim.db',
    verifyStream: async (id) => breakOf(id),
    async verifyStreams(ids) {
      let n = 0;
      for (const id of ids) {
        const b = breakOf(id);
        if (b) throw new IntegrityError(`out/sim.db: stream ${id} is broken at stream position ${b.streamPosition} (event ${b.position}): ${b.reason}`);
        n += events[id];
      }
      return { streams: ids.length, events: n };
    },
  };
}

describe('the hash chain check', () => {
  it('counts the streams and events it recomputed', async () => {
    expect(await verifyChains(source({ a: 10, b: 32 }), ['a', 'b'])).toEqual({ verified: true, streams: 2, events: 42 });
    expect(await requireChains(source({ a: 10, b: 32 }), ['b'])).toEqual({ verified: true, streams: 1, events: 32 });
  });

  it('returns the first break as data, and throws it with the message the store gives', async () => {
    const store = source({ a: 10, b: 32, c: 5 }, { stream: 'b', streamPosition: 7, position: 17 });
    expect(await verifyChains(store, ['a', 'b', 'c'])).toEqual({
      verified: false,
      broken: { file: 'out/sim.db', stream: 'b', streamPosition: 7, position: 17, reason: 'hash does not match its contents and predecessor' },
    });
    let thrown: unknown;
    try {
      await requireChains(store, ['a', 'b', 'c']);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(IntegrityError);
    const e = thrown as IntegrityError;
    expect(e.message).toBe('out/sim.db: stream b is broken at stream position 7 (event 17): hash does not match its contents and predecessor');
    expect(e.broken).toMatchObject({ stream: 'b', streamPosition: 7, position: 17 });
  });
});
