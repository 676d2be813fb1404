import { describe, expect, it } from 'vitest';
import { designSe, normalCdf, normalQuantile, power, usersNeeded } from './power.js';

describe('normal distribution', () => {
  it('matches tabulated values', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalCdf(1.959963984540054)).toBeCloseTo(0.975, 7);
    expect(normalCdf(-1)).toBeCloseTo(0.158655254, 7);
    expect(normalCdf(3)).toBeCloseTo(0.998650102, 7);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963985, 7);
    expect(normalQuantile(0.8)).toBeCloseTo(0.841621234, 7);
    expect(normalQuantile(0.005)).toBeCloseTo(-2.575829304, 7);
    expect(() => normalQuantile(1)).toThrow(/\(0, 1\)/);
  });
});

describe('power', () => {
  it('is alpha at no effect, and 0.8 (plus the far tail) when effect/se = z_{1-a/2} + z_{0.8}', () => {
    expect(power(0, 0.1, 0.05)).toBeCloseTo(0.05, 7);
    const se = 0.1 / (1.959963985 + 0.841621234);
    // the far tail: Φ(-0.1/se - 1.96) = Φ(-4.7616) ≈ 9.6e-7
    expect(power(0.1, se, 0.05)).toBeCloseTo(0.8 + 9.6e-7, 6);
    expect(power(-0.1, se, 0.05)).toBeCloseTo(power(0.1, se, 0.05), 12);
  });

  it('sizes the textbook example: sigma 1, effect 0.2, 80% at 5% needs 197 (196.2 rounded up)', () => {
    const noise = { pairedVariance: 1, unpairedVariance: 2, included: 1, tau2: 0 };
    expect(usersNeeded(noise, 1, 0.2, 0.05, 0.8, true)).toBe(197);
    // unpaired: twice the variance, so twice the users; two seeds halve it again
    expect(usersNeeded(noise, 1, 0.2, 0.05, 0.8, false)).toBe(393);
    expect(usersNeeded(noise, 2, 0.2, 0.05, 0.8, false)).toBe(197);
    // only half the users have an outcome: twice as many needed
    expect(usersNeeded({ ...noise, included: 0.5 }, 1, 0.2, 0.05, 0.8, true)).toBe(393);
  });

  it('adds between-seed variance that more users cannot remove', () => {
    const noise = { pairedVariance: 1, unpairedVariance: 2, included: 1, tau2: 0.01 };
    // se² = (1/100 + 0.01) / 2 = 0.01
    expect(designSe(noise, { users: 100, seeds: 2 }, true)).toBeCloseTo(0.1, 12);
    // one seed: (0.2 / 2.8016)² = 0.005096 < tau² = 0.01: no number of users is enough
    expect(usersNeeded(noise, 1, 0.2, 0.05, 0.8, true)).toBeNull();
    // three seeds: room = 3 · 0.005096 - 0.01 = 0.005288, n = 1 / 0.005288 = 189.1 -> 190
    expect(usersNeeded(noise, 3, 0.2, 0.05, 0.8, true)).toBe(190);
  });
});
