import { describe, expect, it } from 'vitest';
import { nelderMead } from './nelder-mead.js';

describe('nelderMead', () => {
  it('finds the minimum of a shifted quadratic bowl', () => {
    const f = (x: number[]) => (x[0] - 3) ** 2 + 10 * (x[1] + 1) ** 2 + (x[2] - 0.5) ** 2;
    const r = nelderMead(f, [0, 0, 0], { steps: [1, 1, 1], maxEvaluations: 2000, tolerance: 1e-12 });
    expect(r.x[0]).toBeCloseTo(3, 3);
    expect(r.x[1]).toBeCloseTo(-1, 3);
    expect(r.x[2]).toBeCloseTo(0.5, 3);
  });

  it('finds the Rosenbrock valley\'s minimum at (1, 1)', () => {
    const f = (x: number[]) => 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2;
    const r = nelderMead(f, [-1.2, 1], { steps: [0.5, 0.5], maxEvaluations: 5000, tolerance: 1e-14 });
    expect(r.x[0]).toBeCloseTo(1, 2);
    expect(r.x[1]).toBeCloseTo(1, 2);
  });

  it('is deterministic and stops at the evaluation budget', () => {
    let calls = 0;
    const f = (x: number[]) => {
      calls += 1;
      return Math.abs(x[0]) + Math.abs(x[1]);
    };
    const a = nelderMead(f, [5, 5], { steps: [1, 1], maxEvaluations: 40 });
    expect(calls).toBeLessThanOrEqual(40 + 3); // an iteration started below the budget finishes: at most n + 2 more
    expect(nelderMead(f, [5, 5], { steps: [1, 1], maxEvaluations: 40 })).toEqual(a);
  });
});
