import { describe, expect, it } from 'vitest';
import { differenceInMeans, mean, pairedDifference, poolSeeds, proportionInterval, spread, variance } from './stats.js';

/**
 * HC2 from its definition, for the regression y = a + b·D: (X'X)⁻¹ X' diag(e²/(1-h)) X (X'X)⁻¹,
 * written out for two columns. Independent of stats.ts's closed form, which it must equal.
 */
function hc2Slope(treated: number[], control: number[]): { b: number; se: number } {
  const y = [...treated, ...control];
  const d = [...treated.map(() => 1), ...control.map(() => 0)];
  const n = y.length;
  const sd = d.reduce((a, x) => a + x, 0);
  // X'X = [[n, sd], [sd, sd]] (d² = d); its inverse
  const det = n * sd - sd * sd;
  const inv = [
    [sd / det, -sd / det],
    [-sd / det, n / det],
  ];
  const xty = [y.reduce((a, v) => a + v, 0), y.reduce((a, v, i) => a + v * d[i], 0)];
  const beta = [inv[0][0] * xty[0] + inv[0][1] * xty[1], inv[1][0] * xty[0] + inv[1][1] * xty[1]];
  const meat = [
    [0, 0],
    [0, 0],
  ];
  for (let i = 0; i < n; i++) {
    const x = [1, d[i]];
    const h = x[0] * (inv[0][0] * x[0] + inv[0][1] * x[1]) + x[1] * (inv[1][0] * x[0] + inv[1][1] * x[1]);
    const e = y[i] - beta[0] - beta[1] * d[i];
    const w = (e * e) / (1 - h);
    for (const r of [0, 1]) for (const c of [0, 1]) meat[r][c] += w * x[r] * x[c];
  }
  // (inv · meat · inv)[1][1]
  const row = [inv[1][0] * meat[0][0] + inv[1][1] * meat[1][0], inv[1][0] * meat[0][1] + inv[1][1] * meat[1][1]];
  return { b: beta[1], se: Math.sqrt(row[0] * inv[0][1] + row[1] * inv[1][1]) };
}

describe('difference in means', () => {
  it('matches a hand computation', () => {
    // means 2.5 and 1; sample variances 5/3 and 2
    const e = differenceInMeans([1, 2, 3, 4], [0, 2])!;
    expect(e.estimate).toBeCloseTo(1.5, 12);
    expect(e.se).toBeCloseTo(Math.sqrt(5 / 12 + 1), 12);
    expect(e.ci95[0]).toBeCloseTo(1.5 - 1.959963984540054 * Math.sqrt(17 / 12), 12);
    expect(e.ci95[1]).toBeCloseTo(1.5 + 1.959963984540054 * Math.sqrt(17 / 12), 12);
    expect([e.n1, e.n0]).toEqual([4, 2]);
  });

  it('has the HC2 standard error of the treatment coefficient in y = a + b·D', () => {
    const treated = [4, 3, 3, 2, 4, 1, 0, 3];
    const control = [2, 2, 3, 1, 4, 0, 2];
    const e = differenceInMeans(treated, control)!;
    const ols = hc2Slope(treated, control);
    expect(Math.abs(e.estimate - ols.b)).toBeLessThan(1e-12);
    expect(Math.abs(e.se - ols.se)).toBeLessThan(1e-12);
  });

  it('is null when a group is empty, and has no spread from one-element groups', () => {
    expect(differenceInMeans([], [1, 2])).toBeNull();
    expect(differenceInMeans([1], [])).toBeNull();
    expect(differenceInMeans([3], [1])).toMatchObject({ estimate: 2, se: 0 });
  });
});

describe('summaries', () => {
  it('mean, sample variance and the between-run spread', () => {
    expect(mean([1, 2, 6])).toBe(3);
    expect(variance([1, 2, 6])).toBeCloseTo(7, 12);
    const s = spread([0.1, 0.3])!;
    expect(s.runs).toBe(2);
    expect(s.mean).toBeCloseTo(0.2, 12);
    expect(s.sd).toBeCloseTo(Math.sqrt(0.02), 12);
    expect(spread([])).toBeNull();
  });
});

describe('pairedDifference', () => {
  it('is the mean of per-user differences with SE sd(d)/sqrt(n), by hand', () => {
    // d = [1, 2, 0, 3]: mean 1.5, sample variance (0.25 + 0.25 + 2.25 + 2.25) / 3 = 5/3, se = sqrt(5/3) / 2
    const e = pairedDifference([3, 4, 2, 5], [2, 2, 2, 2])!;
    expect(e.estimate).toBeCloseTo(1.5, 12);
    expect(e.se).toBeCloseTo(Math.sqrt(5 / 3) / 2, 12);
    expect(e.sd).toBeCloseTo(Math.sqrt(5 / 3), 12);
    expect(e.n).toBe(4);
    expect(e.ci95[0]).toBeCloseTo(1.5 - 1.959963984540054 * Math.sqrt(5 / 12), 12);
    expect(e.ci95[1]).toBeCloseTo(1.5 + 1.959963984540054 * Math.sqrt(5 / 12), 12);
  });

  it('gives a zero-width interval when every difference is zero, where the unpaired one does not', () => {
    const same = [1, 3, 2, 4, 0];
    const e = pairedDifference(same, same)!;
    expect(e).toMatchObject({ estimate: 0, se: 0, ci95: [0, 0] });
    expect(differenceInMeans(same, same)!.se).toBeGreaterThan(0.5);
    // a constant shift too: each user moved by exactly 1
    expect(pairedDifference([2, 4, 3], [1, 3, 2])).toMatchObject({ estimate: 1, se: 0, ci95: [1, 1] });
  });

  it('refuses arrays that do not pair up, and is null for fewer than two users (no variance to estimate)', () => {
    expect(() => pairedDifference([1, 2], [1])).toThrow(/2 treated values for 1 control/);
    expect(pairedDifference([], [])).toBeNull();
    expect(pairedDifference([3], [1])).toBeNull();
  });
});

describe('poolSeeds', () => {
  it('uses the between-seed spread when it exceeds the within-seed variance', () => {
    // estimates 1, 2, 3: s² = 1; within = 0.25; tau² = 0.75; var = (0.75 + 0.25) / 3
    const p = poolSeeds([1, 2, 3].map((estimate) => ({ estimate, se: 0.5 })))!;
    expect(p.estimate).toBeCloseTo(2, 12);
    expect(p.between).toBeCloseTo(1, 12);
    expect(p.within).toBeCloseTo(0.25, 12);
    expect(p.tau2).toBeCloseTo(0.75, 12);
    expect(p.se).toBeCloseTo(Math.sqrt(1 / 3), 12);
    expect(p.ci95[1] - p.ci95[0]).toBeCloseTo(2 * 1.959963984540054 * Math.sqrt(1 / 3), 12);
  });

  it('uses the within-seed variance when the seeds agree better than sampling explains', () => {
    // estimates 1, 1.1 with se 1 and 0.6: s² = 0.005, within = (1 + 0.36) / 2 = 0.68, tau² = 0
    const p = poolSeeds([
      { estimate: 1, se: 1 },
      { estimate: 1.1, se: 0.6 },
    ])!;
    expect(p.estimate).toBeCloseTo(1.05, 12);
    expect(p.tau2).toBe(0);
    expect(p.se).toBeCloseTo(Math.sqrt(0.68 / 2), 12);
  });

  it('passes one seed through, and gives zero width when every seed is exact and equal', () => {
    expect(poolSeeds([{ estimate: 0.3, se: 0.1 }])).toMatchObject({ estimate: 0.3, se: 0.1, seeds: 1, tau2: 0 });
    expect(poolSeeds([{ estimate: 0, se: 0 }, { estimate: 0, se: 0 }])).toMatchObject({ estimate: 0, se: 0, ci95: [0, 0] });
    expect(poolSeeds([])).toBeNull();
  });
});

describe('proportionInterval', () => {
  it('is p ± 1.96 sqrt(p(1-p)/n), clipped to [0, 1]', () => {
    const [lo, hi] = proportionInterval(50, 100)!;
    expect(lo).toBeCloseTo(0.5 - 1.959963984540054 * 0.05, 12);
    expect(hi).toBeCloseTo(0.5 + 1.959963984540054 * 0.05, 12);
    expect(proportionInterval(1, 2)).toEqual([0, 1]);
    expect(proportionInterval(0, 0)).toBeNull();
  });
});
