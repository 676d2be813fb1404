import { describe, expect, it } from 'vitest';
import { persona, worldOf } from '../../test/support/world.js';
import { makeEvent } from './events.js';
import { parseExperiment, periodOf, periodStart } from './config.js';
import { fromPrng, rng } from './rng.js';
import { assignmentDraw, assignTreatment, countLikelyVoters, treatmentMessageFor } from './treatment.js';

const config = parseExperiment({});
const adults = Array.from({ length: 2000 }, (_, id) => ({ id, age: 18 + (id % 60) }));

describe('nested treatment assignment', () => {
  it('treats exactly the eligible users whose own draw is below the probability', () => {
    const expected = adults.filter((p) => assignmentDraw(7, p.id) < 0.3).map((p) => p.id);
    expect(assignTreatment(adults, 0.3, 7)).toEqual(expected);
  });

  it('is nested: everyone treated at a lower probability is treated at a higher one', () => {
    const at = (p: number) => new Set(assignTreatment(adults, p, 11));
    const [p02, p04, p08] = [at(0.2), at(0.4), at(0.8)];
    for (const id of p02) expect(p04.has(id)).toBe(true);
    for (const id of p04) expect(p08.has(id)).toBe(true);
    // Shares close to the probabilities (binomial sd at n=2000 is about 1%).
    expect(p02.size / 2000).toBeGreaterThan(0.16);
    expect(p02.size / 2000).toBeLessThan(0.24);
    expect(p08.size / 2000).toBeGreaterThan(0.76);
  });

  it('depends on the treatment seed alone, not on who else is in the population', () => {
    const full = new Set(assignTreatment(adults, 0.5, 3));
    const half = assignTreatment(adults.filter((p) => p.id % 2 === 0), 0.5, 3);
    expect(half.every((id) => full.has(id))).toBe(true);
    expect(half).toEqual([...full].filter((id) => id % 2 === 0));
    expect(assignTreatment(adults, 0.5, 4)).not.toEqual([...full]);
  });

  it('never treats users under 18, even at probability 1; treats every adult at 1 and none at 0', () => {
    const mixed = [{ id: 1, age: 17 }, { id: 2, age: 18 }, { id: 3, age: 12 }, { id: 4, age: 64 }];
    expect(assignTreatment(mixed, 1, 1)).toEqual([2, 4]);
    expect(assignTreatment(mixed, 0, 1)).toEqual([]);
  });
});

describe('periods', () => {
  it('map rounds to the periods ending at the time points 10, 20, 29, 30', () => {
    expect([1, 10, 11, 20, 21, 29, 30].map((r) => periodOf(config, r))).toEqual([1, 1, 2, 2, 3, 3, 4]);
    expect([1, 2, 3, 4].map((p) => periodStart(config, p))).toEqual([1, 11, 21, 30]);
  });
});

describe('treatment messages', () => {
  // Agent 0 follows 1..9; likelihoods: 1:4 2:3 3:2 4:none 5:3 6:4 7:3 8:3 9:4 -> 7 likely friends.
  const likelihoods: Record<number, number> = { 1: 4, 2: 3, 3: 2, 5: 3, 6: 4, 7: 3, 8: 3, 9: 4, 10: 1 };
  const people = Array.from({ length: 11 }, (_, id) => persona(id));
  const follows = Array.from({ length: 9 }, (_, i): [number, number] => [0, i + 1]);
  const stated = Object.entries(likelihoods).map(([id, l]) => makeEvent('VotingIntentionStated', { likelihood: l }, -5, Number(id)));
  const treat = (message: 'informational' | 'social', ids: number[]) => makeEvent('TreatmentAssigned', { period: 1, probability: 1, message, treatedIds: ids }, 1);

  it('social: the network-wide likely-voter count and up to 6 followed likely voters', () => {
    const world = worldOf(people, follows, [], [...stated, treat('social', [0])]);
    expect(countLikelyVoters(world, 3)).toBe(7);
    for (let seed = 0; seed < 10; seed++) {
      const message = treatmentMessageFor(world, 0, config, 8, () => rng(seed, 'main', 1, 0, 'social'));
      expect(message?.kind).toBe('social');
      expect(message?.likelyVoters).toBe(8);
      expect(message?.stimulus).toBe('VOTE OR BE SILENCED! One ballot = one voice. Use yours.');
      expect(message?.friendIds).toHaveLength(6);
      expect(new Set(message?.friendIds).size).toBe(6);
      for (const id of message!.friendIds) expect([1, 2, 5, 6, 7, 8, 9]).toContain(id);
    }
  });

  it('social: lists all likely friends when there are fewer than 6', () => {
    const world = worldOf(people, [[0, 3], [0, 5], [0, 10], [0, 9]], [], [...stated, treat('social', [0])]);
    const message = treatmentMessageFor(world, 0, config, 8, () => fromPrng(() => 0));
    expect([...message!.friendIds].sort()).toEqual([5, 9]);
  });

  it('informational: the stimulus only; untreated and under-18 users see nothing', () => {
    const world = worldOf([...people.slice(0, 10), persona(10, { age: 16 })], follows, [], [...stated, treat('informational', [0, 10])]);
    expect(treatmentMessageFor(world, 0, config, 8, () => fromPrng(() => 0))).toEqual({
      kind: 'informational',
      stimulus: 'VOTE OR BE SILENCED! One ballot = one voice. Use yours.',
      likelyVoters: null,
      friendIds: [],
    });
    expect(treatmentMessageFor(world, 1, config, 8, () => fromPrng(() => 0))).toBeNull();
    expect(treatmentMessageFor(world, 10, config, 8, () => fromPrng(() => 0))).toBeNull();
  });
});
