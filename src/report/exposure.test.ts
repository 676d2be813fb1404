import { describe, expect, it } from 'vitest';
import { doseBin, EXPOSURE_MEASURES, exposureFigures, type Exposure } from './exposure.js';

const exposure = (treatedFollowees: number, treatedPostsServed = 0, namedInSocialMessages = 0): Exposure => ({ treatedFollowees, treatedPostsServed, namedInSocialMessages });

describe('exposureFigures', () => {
  /**
   * Six untreated users with doses 0, 0, 1, 1, 3, 4 treated followees; final likelihood 2 in control
   * for all, and 2, 2, 3, 4, 4, 4 in the condition: d = 0, 0, 1, 2, 2, 2. User 7 has no control value.
   */
  const condition = new Map([[1, 2], [2, 2], [3, 3], [4, 4], [5, 4], [6, 4], [7, 1]]);
  const control = new Map([1, 2, 3, 4, 5, 6].map((u) => [u, 2]));
  const doses = new Map([[1, exposure(0, 3)], [2, exposure(0, 12, 1)], [3, exposure(1, 15)], [4, exposure(1)], [5, exposure(3)], [6, exposure(4)], [7, exposure(9)]]);
  const figures = exposureFigures('experiment_soc_message', [1, 2, 3, 4, 5, 6, 7], doses, condition, control);
  const followees = figures.measures.find((m) => m.measure === 'treated followees')!;

  it('groups users by dose with their paired difference against control', () => {
    const bins = Object.fromEntries(followees.bins.map((b) => [b.dose, b]));
    expect(bins['0']).toMatchObject({ users: 2, paired: { estimate: 0, se: 0, ci95: [0, 0] } });
    expect(bins['1'].users).toBe(2);
    expect(bins['1'].paired!.estimate).toBeCloseTo(1.5, 12);
    expect(bins['1'].paired!.se).toBeCloseTo(0.5, 12); // d = 1, 2: sd sqrt(0.5), se sqrt(0.5 / 2)
    expect(bins['2']).toMatchObject({ users: 0, paired: null });
    expect(bins['3+']).toMatchObject({ users: 2, paired: { estimate: 2, se: 0 } });
  });

  it('fits the trend on the uncapped dose: slope Σ(x-x̄)(d-d̄) / Σ(x-x̄)² = 6.5 / 13.5', () => {
    expect(followees.trend!.users).toBe(6);
    expect(followees.trend!.slope).toBeCloseTo(6.5 / 13.5, 12);
  });

  it('bins posts served by their own edges', () => {
    const posts = figures.measures.find((m) => m.measure === "treated users' posts served")!;
    expect(posts.bins.map((b) => [b.dose, b.users])).toEqual([['0-4', 4], ['5-9', 0], ['10-14', 1], ['15+', 1]]);
    expect(EXPOSURE_MEASURES.map((m) => doseBin(m.bins, 5))).toEqual(['3+', '5-9', '3+']);
  });
});
