import { describe, expect, it } from 'vitest';
import { parseExperiment } from './config.js';
import { fromPrng } from './rng.js';
import { initialNextActivity, nextActivity } from './schedule.js';

const activity = parseExperiment({}).activity;
/** A generator returning the given values in turn. */
const scripted = (...values: number[]) => {
  let i = 0;
  return fromPrng(() => values[i++]);
};

describe('activity scheduling', () => {
  it('starts at the start round plus a uniform 1..5', () => {
    expect(initialNextActivity(-15, activity, scripted(0))).toBe(-14);
    expect(initialNextActivity(-15, activity, scripted(0.999))).toBe(-10);
  });

  it('uses a proposal in range: next = round + t + uniform 0..1+t', () => {
    // t = 2; extra = floor(0.99 x 4) = 3 -> 3 + 2 + 3
    expect(nextActivity(3, 2, activity, scripted(0.99))).toEqual({ nextRound: 8, proposed: 2 });
    // t = 5; extra = floor(0 x 7) = 0
    expect(nextActivity(10, 5, activity, scripted(0))).toEqual({ nextRound: 15, proposed: 5 });
  });

  it('draws t uniformly 1..5 when the proposal is missing, out of range or not an integer', () => {
    // t = 1 + floor(0.5 x 5) = 3; extra = floor(0.25 x 5) = 1 -> 7 + 3 + 1
    for (const bad of [undefined, null, 0, 6, 2.5, '3']) {
      expect(nextActivity(7, bad, activity, scripted(0.5, 0.25))).toEqual({ nextRound: 11, proposed: null });
    }
  });
});
