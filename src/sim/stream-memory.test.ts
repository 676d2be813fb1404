import { describe, expect, it } from 'vitest';
import { emptyWorld } from '../domain/world.js';
import { StreamMemory } from './stream-memory.js';

describe('StreamMemory', () => {
  const state = emptyWorld();
  it('recalls a state only at exactly the head it was kept at (position and hash)', () => {
    const memory = new StreamMemory();
    memory.keep('s', { position: 10, hash: 'abc' }, state, false);
    expect(memory.recall('s', { position: 10, hash: 'abc' })).toEqual({ state, finished: false });
    expect(memory.recall('s', { position: 12, hash: 'def' })).toBeNull();
    expect(memory.recall('s', { position: 10, hash: 'xyz' })).toBeNull();
    expect(memory.recall('t', { position: 10, hash: 'abc' })).toBeNull();
    // A newer state of the stream replaces the older one.
    memory.keep('s', { position: 12, hash: 'def' }, state, true);
    expect(memory.recall('s', { position: 10, hash: 'abc' })).toBeNull();
    expect(memory.recall('s', { position: 12, hash: 'def' })?.finished).toBe(true);
  });
  it('forgets every stream but the ones named', () => {
    const memory = new StreamMemory();
    for (const id of ['a', 'b', 'c']) memory.keep(id, { position: 1, hash: id }, state, false);
    memory.forgetAllBut(['b']);
    expect(['a', 'b', 'c'].map((id) => memory.recall(id, { position: 1, hash: id }) !== null)).toEqual([false, true, false]);
  });
});
