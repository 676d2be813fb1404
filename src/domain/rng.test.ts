import { describe, expect, it } from 'vitest';
import seedrandom from 'seedrandom';
import { fromPrng, rng } from './rng.js';

describe('rng streams', () => {
  it('draw exactly what seedrandom\'s alea draws for the same name (recorded runs depend on it)', () => {
    // Names of every shape the simulator uses, plus edge cases of the seeding (empty parts,
    // negative rounds, long and non-ASCII names); thousands of draws each cover the carry.
    const names: Array<[number, string, number, number, string]> = [
      [1, 'warmup', -15, 0, 'shown'],
      [3, 'main', 46, 19999, 'schedule'],
      [2012, 'main', 1, 7, 'post-subtopic'],
      [0, '', 0, 0, ''],
      [-5, 'stage with spaces and é', -1, 1_000_000, 'x'.repeat(300)],
    ];
    for (let seed = 0; seed < 200; seed++) names.push([seed, seed % 2 ? 'main' : 'warmup', (seed % 47) - 15, seed * 97, 'decide']);
    names.forEach(([seed, stage, round, agent, purpose], index) => {
      const ours = rng(seed, stage, round, agent, purpose);
      const theirs = seedrandom.alea(`${seed}|${stage}|${round}|${agent}|${purpose}`);
      const draws = index < 5 ? 5000 : 50;
      for (let i = 0; i < draws; i++) expect(ours.next()).toBe(theirs());
    });
  });

  it('give the same sequence for the same name and a different one when any part of the name differs', () => {
    const a = rng(1, 'warmup', -3, 7, 'decide');
    const b = rng(1, 'warmup', -3, 7, 'decide');
    const seqA = [a.next(), a.next(), a.next()];
    expect([b.next(), b.next(), b.next()]).toEqual(seqA);
    for (const other of [rng(2, 'warmup', -3, 7, 'decide'), rng(1, 'main', -3, 7, 'decide'), rng(1, 'warmup', -2, 7, 'decide'), rng(1, 'warmup', -3, 8, 'decide'), rng(1, 'warmup', -3, 7, 'feed')]) {
      expect(other.next()).not.toBe(seqA[0]);
    }
  });

  it('int covers both ends and nothing outside', () => {
    const r = rng(5, 's', 0, 0, 'p');
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) seen.add(r.int(1, 5));
    expect([...seen].sort()).toEqual([1, 2, 3, 4, 5]);
  });

  it('sample and shuffle follow Fisher-Yates on a scripted generator', () => {
    // With next() always 0, each step swaps place i with place i: nothing moves in sample,
    // and shuffle swaps place i with 0 from the end down.
    const zero = fromPrng(() => 0);
    expect(zero.sample([1, 2, 3, 4], 2)).toEqual([1, 2]);
    expect(zero.shuffle([1, 2, 3, 4])).toEqual([2, 3, 4, 1]);
    expect(zero.sample([1, 2], 5)).toEqual([1, 2]);
    expect(() => zero.pick([])).toThrow(/empty/);
  });
});
