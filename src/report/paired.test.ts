import { describe, expect, it } from 'vitest';
import { normalCdf } from '../domain/power.js';
import { ageBand, doseTrend, educationBand, followerQuintiles, pairedOver, partisanship, stanceStrength } from './paired.js';

describe('pairedOver', () => {
  it('pairs users present under both and leaves the others out', () => {
    const condition = new Map([[1, 3], [2, 4], [3, 2], [4, 5]]);
    const control = new Map([[1, 2], [2, 2], [4, 2], [5, 2]]);
    // users 1, 2, 4: d = 1, 2, 3 -> mean 2, sd 1, se 1/sqrt(3)
    const e = pairedOver([1, 2, 3, 4, 5], condition, control)!;
    expect(e.n).toBe(3);
    expect(e.estimate).toBeCloseTo(2, 12);
    expect(e.se).toBeCloseTo(1 / Math.sqrt(3), 12);
  });
});

describe('persona groups', () => {
  it('bands age, education and stance as documented', () => {
    expect([18, 29, 30, 44, 45, 64, 65, 90].map(ageBand)).toEqual(['18-29', '18-29', '30-44', '30-44', '45-64', '45-64', '65+', '65+']);
    expect(['11th', 'HS-grad', 'Assoc-voc', 'Bachelors', 'Doctorate', '??'].map(educationBand)).toEqual(['less than high school', 'high school', 'some college / associate', 'bachelor', 'graduate', 'other']);
    const stances = ['very liberal', 'liberal', 'slightly liberal', 'moderate', 'slightly conservative', 'conservative', 'very conservative'];
    expect(stances.map(partisanship)).toEqual(['liberal', 'liberal', 'liberal', 'moderate', 'conservative', 'conservative', 'conservative']);
    expect(stances.map(stanceStrength)).toEqual(['3 very', '2 plain', '1 slightly', '0 moderate', '1 slightly', '2 plain', '3 very']);
  });

  it('puts users in follower-count quintiles by how many have fewer followers, tied users together', () => {
    // fewer: 0-follower users 0 -> Q1; 1: 4 -> Q3; 5: 6 -> Q4; 9: 8 -> Q5; 20: 9 -> floor(4.5) + 1 = Q5
    const counts: Record<number, number> = { 1: 0, 2: 0, 3: 0, 4: 0, 5: 1, 6: 1, 7: 5, 8: 5, 9: 9, 10: 20 };
    const q = followerQuintiles([10, 9, 8, 7, 6, 5, 4, 3, 2, 1], (u) => counts[u]);
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((u) => q.get(u))).toEqual([
      'Q1 (0 followers)', 'Q1 (0 followers)', 'Q1 (0 followers)', 'Q1 (0 followers)', 'Q3 (1 followers)', 'Q3 (1 followers)',
      'Q4 (5 followers)', 'Q4 (5 followers)', 'Q5 (9-20 followers)', 'Q5 (9-20 followers)',
    ]);
  });
});

describe('doseTrend', () => {
  it('is the OLS slope with an HC0 standard error, by hand', () => {
    // x = 0, 0, 1, 1; d = 0, 2, 1, 3: slope 1, intercept 1, residuals ±1, HC0 var = Σ(x-x̄)² e² / (Σ(x-x̄)²)² = 1
    const t = doseTrend([0, 0, 1, 1], [0, 2, 1, 3], normalCdf)!;
    expect(t.slope).toBeCloseTo(1, 12);
    expect(t.se).toBeCloseTo(1, 12);
    expect(t.z).toBeCloseTo(1, 12);
    expect(t.p!).toBeCloseTo(0.317310508, 7);
  });

  it('says no trend (p = 1) when every difference is zero, and nothing when every dose is the same', () => {
    expect(doseTrend([0, 1, 2, 5], [0, 0, 0, 0], normalCdf)).toMatchObject({ slope: 0, se: 0, z: 0, p: 1 });
    expect(doseTrend([2, 2, 2], [0, 1, 2], normalCdf)).toBeNull();
  });
});
