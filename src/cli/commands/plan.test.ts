import { describe, expect, it } from 'vitest';
import { betweenSeeds } from './plan.js';

describe('the between-seed variance as printed', () => {
  const noise = { pairedVariance: 0.1, unpairedVariance: 1, included: 0.9 };
  it('says why it is 0: one seed measures nothing; several may vary no more than their sampling error', () => {
    expect(betweenSeeds({ ...noise, tau2: 0, seeds: 1, between: 0, within: 0.0005 })).toBe('between-seed variance not measured (one pilot seed; give --pilot runs of 2 or more seeds), taken as 0');
    expect(betweenSeeds({ ...noise, tau2: 0, seeds: 2, between: 0.00034, within: 0.0005 })).toBe(
      "between-seed variance 0: the 2 pilot seeds' effects vary (0.00034) no more than their sampling error explains (0.00050); 2 seeds say little, 5 or more say more",
    );
    expect(betweenSeeds({ ...noise, tau2: 0, seeds: 5, between: 0.0001, within: 0.0005 })).not.toMatch(/say little/);
  });

  it('gives a measured one with its sd, never as 0.00e+0', () => {
    expect(betweenSeeds({ ...noise, tau2: 0.0004, seeds: 3, between: 0.0009, within: 0.0005 })).toBe('between-seed variance 0.00040 (sd 0.020) from 3 pilot seeds');
  });
});
