import { normalQuantile, designSe, power, usersNeeded, type NoiseModel } from '../domain/power.js';
import type { EffectFigures } from './build.js';
import { mean, poolSeeds } from './stats.js';

export type Metric = 'likelihood' | 'turnout';

/** One pilot run's effects and how many users it had. */
export interface PilotRun {
  seed: number;
  users: number;
  effects: EffectFigures[];
}

/**
 * The noise of one condition's effect, from pilot runs. Paired: the variance of per-user
 * differences. Unpaired: se² · n, so that a design of N users has se · sqrt(n / (included · N))
 * (the two-sample SE scales with the users in each arm). Both averaged over the pilot runs. tau²:
 * the between-seed variance of the paired estimate (report/stats.ts poolSeeds), 0 from one run.
 */
export function noiseFrom(pilots: readonly PilotRun[], stream: string, metric: Metric): NoiseModel | null {
  const rows = pilots.flatMap((p) => {
    const e = p.effects.find((x) => x.stream === stream);
    const paired = e?.paired[metric];
    const unpaired = e?.[metric];
    return e && paired && unpaired ? [{ users: p.users, paired, unpaired }] : [];
  });
  if (rows.length === 0) return null;
  const pooled = poolSeeds(rows.map((r) => ({ estimate: r.paired.estimate, se: r.paired.se })))!;
  return {
    pairedVariance: mean(rows.map((r) => r.paired.sd ** 2)),
    unpairedVariance: mean(rows.map((r) => r.unpaired.se ** 2 * r.paired.n)),
    included: mean(rows.map((r) => r.paired.n / r.users)),
    tau2: pooled.tau2,
    seeds: pooled.seeds,
    between: pooled.between,
    within: pooled.within,
  };
}

export interface Design {
  users: number;
  seeds: number;
  /** Per condition: planned power paired and unpaired. */
  power: Record<string, { paired: number; unpaired: number }>;
  calls: number;
  tokens: number;
  costUsd: number;
}

export interface PlanInput {
  effect: number;
  alpha: number;
  power: number;
  noise: Record<string, NoiseModel>;
  /** The largest population a run can sample. */
  maxUsers: number;
  /** Calls, tokens and dollars of one run of this many users (all planned conditions and control). */
  cost: (users: number) => { calls: number; tokens: number; costUsd: number };
}

/** Below this a sample of the population has too few follow edges to be a social network. */
export const MIN_USERS = 100;
const MAX_SEEDS = 10;
const GRID_USERS = [100, 250, 500, 1000, 2000, 5000, 10000, 20000];
const GRID_SEEDS = [1, 3, 5];

export function designOf(input: PlanInput, users: number, seeds: number): Design {
  const powerOf: Design['power'] = {};
  for (const [stream, noise] of Object.entries(input.noise)) {
    powerOf[stream] = {
      paired: power(input.effect, designSe(noise, { users, seeds }, true), input.alpha),
      unpaired: power(input.effect, designSe(noise, { users, seeds }, false), input.alpha),
    };
  }
  const one = input.cost(users);
  return { users, seeds, power: powerOf, calls: one.calls * seeds, tokens: one.tokens * seeds, costUsd: one.costUsd * seeds };
}

/**
 * The cheapest design (fewest users x seeds, so fewest LLM calls) whose power reaches the target
 * for every condition, paired or unpaired; null when none within MIN_USERS..maxUsers users and up
 * to MAX_SEEDS seeds does (between-seed variance or the population size can make that so).
 */
export function recommend(input: PlanInput, paired: boolean): Design | null {
  let best: Design | null = null;
  for (let seeds = 1; seeds <= MAX_SEEDS; seeds++) {
    const needs = Object.values(input.noise).map((n) => usersNeeded(n, seeds, input.effect, input.alpha, input.power, paired));
    if (needs.some((n) => n === null)) continue;
    const users = Math.max(MIN_USERS, ...(needs as number[]));
    if (users > input.maxUsers) continue;
    if (!best || users * seeds < best.users * best.seeds) best = designOf(input, users, seeds);
  }
  return best;
}

/** The table of designs: a grid of users x seeds, plus the recommended ones, in order. */
export function designTable(input: PlanInput, extra: ReadonlyArray<Design | null>): Design[] {
  const keys = new Set<string>();
  const out: Design[] = [];
  const add = (users: number, seeds: number) => {
    const key = `${users}x${seeds}`;
    if (keys.has(key) || users > input.maxUsers) return;
    keys.add(key);
    out.push(designOf(input, users, seeds));
  };
  for (const seeds of GRID_SEEDS) for (const users of GRID_USERS) add(users, seeds);
  for (const d of extra) if (d) add(d.users, d.seeds);
  return out.sort((a, b) => a.seeds - b.seeds || a.users - b.users);
}

/**
 * Empirical power of replications of a design: the share whose two-sided z test of "effect = 0"
 * rejects at level alpha (|estimate| / se > z; with se 0, any non-zero estimate). The replications
 * have the offline model's own effect, so this is compared with the power planned at that effect.
 */
export function empiricalPower(replications: ReadonlyArray<{ estimate: number; se: number }>, alpha: number): number {
  if (replications.length === 0) return Number.NaN;
  const z = normalQuantile(1 - alpha / 2);
  return replications.filter((r) => (r.se > 0 ? Math.abs(r.estimate) / r.se > z : r.estimate !== 0)).length / replications.length;
}

/** The effect the pilots measured (mean of their paired estimates): what offline replications have. */
export function pilotEffect(pilots: readonly PilotRun[], stream: string, metric: Metric): number | null {
  const values = pilots.flatMap((p) => {
    const e = p.effects.find((x) => x.stream === stream)?.paired[metric];
    return e ? [e.estimate] : [];
  });
  return values.length > 0 ? mean(values) : null;
}

/**
 * Unpaired estimates as a field experiment would have them: the condition's arm of one replication
 * against the control arm of the next (r + 1 mod K, other seeds, so other users). Within one
 * replication both arms hold the same users and the difference in means is far less noisy than its
 * two-sample SE says, which would make the unpaired check meaningless.
 */
export function crossedUnpaired(
  replications: ReadonlyArray<ReadonlyArray<{ condition: { mean: number; variance: number; n: number } | null; control: { mean: number; variance: number; n: number } | null }>>,
): Array<{ estimate: number; se: number }> {
  const k = replications.length;
  return replications.flatMap((seeds, r) => {
    const next = replications[(r + 1) % k];
    const perSeed = seeds.flatMap((arm, j) => {
      const c = arm.condition;
      const o = next[j]?.control;
      return c && o ? [{ estimate: c.mean - o.mean, se: Math.sqrt(c.variance / c.n + o.variance / o.n) }] : [];
    });
    const pooled = poolSeeds(perSeed);
    return pooled ? [pooled] : [];
  });
}
