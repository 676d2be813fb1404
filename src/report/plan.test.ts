import { describe, expect, it } from 'vitest';
import type { EffectFigures } from './build.js';
import { crossedUnpaired, designOf, designTable, empiricalPower, MIN_USERS, noiseFrom, pilotEffect, recommend, type PlanInput } from './plan.js';

const effect = (stream: string, pairedEstimate: number, pairedSe: number, sd: number, n: number, unpairedSe: number): EffectFigures => ({
  stream,
  condition: stream,
  likelihood: { estimate: pairedEstimate, se: unpairedSe, ci95: [0, 0], n1: n, n0: n },
  turnout: null,
  paired: { likelihood: { estimate: pairedEstimate, se: pairedSe, ci95: [0, 0], n, sd }, turnout: null },
});

describe('noiseFrom', () => {
  it('takes the per-user variances and the share of users with an outcome from the pilot, by hand', () => {
    // 800 of 1000 users stated under both; sd of differences 0.5; unpaired se 0.1 -> variance 0.01 · 800 = 8
    const n = noiseFrom([{ seed: 1, users: 1000, effects: [effect('t', 0.2, 0.5 / Math.sqrt(800), 0.5, 800, 0.1)] }], 't', 'likelihood')!;
    expect(n.pairedVariance).toBeCloseTo(0.25, 12);
    expect(n.unpairedVariance).toBeCloseTo(8, 12);
    expect(n.included).toBeCloseTo(0.8, 12);
    expect(n.tau2).toBe(0);
    expect(noiseFrom([{ seed: 1, users: 1000, effects: [effect('t', 0.2, 0.01, 0.5, 800, 0.1)] }], 't', 'turnout')).toBeNull();
    expect(pilotEffect([0.1, 0.3].map((e, i) => ({ seed: i, users: 10, effects: [effect('t', e, 0.01, 0.1, 10, 0.1)] })), 't', 'likelihood')).toBeCloseTo(0.2, 12);
  });

  it('measures the between-seed variance from several pilots', () => {
    // paired estimates 0.1 and 0.3 with se 0.01: s² = 0.02, within 1e-4 -> tau² = 0.0199
    const pilots = [0.1, 0.3].map((e, i) => ({ seed: i + 1, users: 100, effects: [effect('t', e, 0.01, 0.1, 100, 0.1)] }));
    expect(noiseFrom(pilots, 't', 'likelihood')!.tau2).toBeCloseTo(0.0199, 12);
  });
});

describe('designs', () => {
  const input: PlanInput = {
    effect: 0.2,
    alpha: 0.05,
    power: 0.8,
    noise: { t: { pairedVariance: 1, unpairedVariance: 4, included: 1, tau2: 0 } },
    maxUsers: 20000,
    cost: (users) => ({ calls: 10 * users, tokens: 1000 * users, costUsd: users / 100 }),
  };

  it('recommends the fewest users x seeds reaching the power: 197 paired, 785 unpaired (textbook n = σ² (z_a + z_b)² / D²)', () => {
    // paired: (1.95996 + 0.84162)² / 0.04 = 196.2 -> 197; unpaired: 4 times the variance -> 784.9 -> 785
    expect(recommend(input, true)).toMatchObject({ users: 197, seeds: 1, calls: 1970, costUsd: 1.97 });
    expect(recommend(input, false)).toMatchObject({ users: 785, seeds: 1 });
    expect(recommend(input, true)!.power.t.paired).toBeGreaterThanOrEqual(0.8);
    // never fewer users than a social network needs
    expect(recommend({ ...input, effect: 2 }, true)!.users).toBe(MIN_USERS);
  });

  it('adds seeds when between-seed variance makes one seed hopeless, and says none when nothing fits', () => {
    // tau² = 0.01: one seed cannot reach v = (0.2 / 2.8016)² = 0.005096; two seeds: room 0.000193 -> 5184 users
    // (10368 users·seeds); three: room 0.005288 -> 190 (570); four: room 0.010384 -> 97, raised to 100 (400),
    // the cheapest; more seeds stay at 100 users and cost more
    const withTau = { ...input, noise: { t: { ...input.noise.t, tau2: 0.01 } } };
    expect(recommend(withTau, true)).toMatchObject({ users: 100, seeds: 4 });
    // with at most 150 users, unpaired (variance 4) needs 4 / (s · 0.005096) <= 150: s = 6 (131 users)
    expect(recommend({ ...input, maxUsers: 150 }, false)).toMatchObject({ seeds: 6 });
    expect(recommend({ ...withTau, noise: { t: { ...input.noise.t, tau2: 1 } } }, true)).toBeNull();
  });

  it('costs a design as seeds runs of its users, and lists the grid within the population', () => {
    expect(designOf(input, 500, 3)).toMatchObject({ calls: 15000, tokens: 1500000, costUsd: 15 });
    const table = designTable({ ...input, maxUsers: 1000 }, [recommend(input, true)]);
    expect(table.every((d) => d.users <= 1000)).toBe(true);
    expect(table.some((d) => d.users === 197 && d.seeds === 1)).toBe(true);
    expect(table.map((d) => [d.users, d.seeds]).slice(0, 5)).toEqual([[100, 1], [197, 1], [250, 1], [500, 1], [1000, 1]]);
  });
});

describe('empiricalPower', () => {
  it('counts the replications whose z test of no effect rejects', () => {
    // |z| = 2, 1, 3, 0 -> two of four reject at 5% (z > 1.96); at 1% (2.576) only one
    const reps = [{ estimate: 0.2, se: 0.1 }, { estimate: -0.1, se: 0.1 }, { estimate: -0.3, se: 0.1 }, { estimate: 0, se: 0.1 }];
    expect(empiricalPower(reps, 0.05)).toBe(0.5);
    expect(empiricalPower(reps, 0.01)).toBe(0.25);
    // an exact estimate (se 0) rejects when it is not zero
    expect(empiricalPower([{ estimate: 0.1, se: 0 }, { estimate: 0, se: 0 }], 0.05)).toBe(0.5);
  });
});

describe('crossedUnpaired', () => {
  it('compares the condition of each replication with the control of the next, by hand', () => {
    const arm = (mean: number) => ({ mean, variance: 1, n: 4 });
    const reps = [
      [{ condition: arm(2), control: arm(1) }],
      [{ condition: arm(3), control: arm(1.5) }],
      [{ condition: arm(2.5), control: arm(2) }],
    ];
    // 2 - 1.5, 3 - 2, 2.5 - 1 (wrapping to the first); se sqrt(1/4 + 1/4)
    const out = crossedUnpaired(reps);
    expect(out.map((e) => e.estimate)).toEqual([0.5, 1, 1.5]);
    for (const e of out) expect(e.se).toBeCloseTo(Math.sqrt(0.5), 12);
    // a replication without an arm gives nothing
    expect(crossedUnpaired([[{ condition: null, control: arm(1) }], [{ condition: arm(1), control: arm(1) }]])).toHaveLength(1);
  });
});
