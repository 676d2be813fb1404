import { describe, expect, it } from 'vitest';
import { averageShapes, conditionShape, totalVariation } from './shape.js';

describe('conditionShape', () => {
  // Rounds 1-4; user 0 answers 1, 3, 3; user 1 answers 3 then 3; user 2 never answers.
  const shape = conditionShape({
    rounds: [1, 2, 3, 4],
    rows: [
      [1, null, 3, 3],
      [null, 3, null, 3],
      [null, null, null, null],
    ],
  });

  it('counts first and final answers over the users who answered', () => {
    expect(shape.users).toBe(2);
    expect(shape.first).toEqual([0, 0.5, 0, 0.5, 0]);
    expect(shape.final).toEqual([0, 0, 0, 1, 0]);
    expect(shape.meanFinal).toBe(3);
  });

  it('counts changed answers among consecutive answers of a user (1 of 3 pairs)', () => {
    expect(shape.changeRate).toBeCloseTo(1 / 3, 12);
  });

  it('follows the mean of each user\'s latest answer, round by round', () => {
    // round 1: {1}; round 2: {1, 3}; round 3: {3, 3}; round 4: {3, 3}
    expect(shape.byRound).toEqual([1, 2, 3, 3]);
  });
});

describe('change rates by stage and direction', () => {
  it('splits the warmup (rounds up to 0) from the rest, and counts the share of changes that go up', () => {
    // user 0: 1 -> 3 in the warmup (up), 3 -> 3 in the main stage; user 1: 3 -> 1 in the warmup (down).
    const s = conditionShape({ rounds: [-1, 0, 1], rows: [[1, 3, 3], [3, 1, null]] });
    expect(s.changeRate).toBeCloseTo(2 / 3, 12);
    expect(s.warmupChangeRate).toBe(1);
    expect(s.upShare).toBe(0.5);
    expect(s.oneTwoShare).toBe(0);
  });

  it('counts the share of changes between 1 and 2, either way', () => {
    // changes: 1 -> 2, 2 -> 3, 3 -> 2, 2 -> 1 (user 0) and 1 -> 3 (user 1): 2 of 5 are between 1 and 2.
    const s = conditionShape({ rounds: [1, 2, 3, 4, 5], rows: [[1, 2, 3, 2, 1], [1, 3, null, null, null]] });
    expect(s.oneTwoShare).toBeCloseTo(2 / 5, 12);
  });
});

describe('totalVariation and averageShapes', () => {
  it('is half the sum of absolute differences', () => {
    expect(totalVariation([0.2, 0.8], [0.5, 0.5])).toBeCloseTo(0.3, 12);
    expect(totalVariation([1, 0, 0], [1, 0, 0])).toBe(0);
  });

  it('averages seeds with equal weight', () => {
    const a = conditionShape({ rounds: [1], rows: [[1]] });
    const b = conditionShape({ rounds: [1], rows: [[3], [3], [3]] });
    const m = averageShapes([a, b]);
    expect(m.meanFinal).toBe(2);
    expect(m.final).toEqual([0, 0.5, 0, 0.5, 0]);
    expect(m.byRound).toEqual([2]);
  });
});
