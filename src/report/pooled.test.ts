import { describe, expect, it } from 'vitest';
import type { Report } from './build.js';
import { poolReports } from './pooled.js';

const est = (estimate: number, se: number) => ({ estimate, se, ci95: [0, 0] as [number, number], n1: 10, n0: 10 });
const paired = (estimate: number, se: number) => ({ estimate, se, ci95: [0, 0] as [number, number], n: 10, sd: 1 });
/** Only what pooling reads. */
const report = (run: number, seed: number, effects: Array<[string, number, number]>): Report =>
  ({
    run,
    seed,
    fingerprint: `f${run}`,
    users: 100,
    effects: effects.map(([stream, e, se]) => ({ stream, condition: stream, likelihood: est(e, 2 * se), turnout: est(e / 10, 0.05), paired: { likelihood: paired(e, se), turnout: null } })),
  }) as unknown as Report;

describe('poolReports', () => {
  const reports = [report(1, 1, [['a', 1, 0.5], ['b', 0, 0]]), report(2, 2, [['a', 2, 0.5]]), report(3, 3, [['a', 3, 0.5], ['b', 0, 0]])];
  const pooled = poolReports(reports);
  const find = (stream: string, metric: string, kind: string) => pooled.effects.find((e) => e.stream === stream && e.metric === metric && e.kind === kind)!;

  it('pools each effect over the seeds that have it, with between-seed variance', () => {
    const a = find('a', 'likelihood', 'paired');
    expect(a.perSeed.map((s) => [s.run, s.seed, s.estimate])).toEqual([[1, 1, 1], [2, 2, 2], [3, 3, 3]]);
    // s² = 1 > within 0.25: var = 1 / 3
    expect(a.pooled!.estimate).toBeCloseTo(2, 12);
    expect(a.pooled!.se).toBeCloseTo(Math.sqrt(1 / 3), 12);
    // unpaired: se 1 each, within 1 >= s² = 1: var = 1 / 3 as well
    expect(find('a', 'likelihood', 'unpaired').pooled!.se).toBeCloseTo(Math.sqrt(1 / 3), 12);
    // b: two seeds with exactly zero differences: a zero-width pooled interval
    expect(find('b', 'likelihood', 'paired').pooled).toMatchObject({ estimate: 0, se: 0, ci95: [0, 0], seeds: 2 });
    // no paired turnout anywhere: nothing pooled
    expect(find('a', 'turnout', 'paired')).toMatchObject({ perSeed: [], pooled: null });
  });

  it('names the runs, the estimator and the streams some runs lack', () => {
    expect(pooled.runs.map((r) => r.run)).toEqual([1, 2, 3]);
    expect(pooled.estimator).toMatch(/equal-weight mean .* tau² = max\(0, s² - w\)/);
    expect(pooled.notInEveryRun).toEqual(['b']);
  });
});
