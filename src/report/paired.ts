import type { ConditionData } from '../export/run-data.js';
import type { Persona } from '../domain/persona.js';
import { mean, pairedDifference, type PairedEstimate } from './stats.js';

/**
 * Per-user outcomes under a condition and under control. Every condition forks from the same
 * warmup with common random numbers, so the same user has both: differences are paired.
 */
export interface Outcomes {
  /** The last likelihood each user stated (users who never stated are absent). */
  likelihood: Map<number, number>;
  /** 0/1 per eligible user. */
  turnout: Map<number, number>;
}

/** The paired estimate over `users` that have the outcome under both (others are left out). */
export function pairedOver(users: readonly number[], condition: Map<number, number>, control: Map<number, number>): PairedEstimate | null {
  const both = users.filter((u) => condition.has(u) && control.has(u));
  return pairedDifference(
    both.map((u) => condition.get(u)!),
    both.map((u) => control.get(u)!),
  );
}

export interface HeterogeneityRow {
  stream: string;
  condition: string;
  attribute: string;
  group: string;
  /** Eligible users in the group. */
  users: number;
  likelihood: PairedEstimate | null;
  turnout: PairedEstimate | null;
}

const EDUCATION_BANDS: Array<[string, string[]]> = [
  ['less than high school', ['Preschool', '1st-4th', '5th-6th', '7th-8th', '9th', '10th', '11th', '12th']],
  ['high school', ['HS-grad']],
  ['some college / associate', ['Some-college', 'Assoc-voc', 'Assoc-acdm']],
  ['bachelor', ['Bachelors']],
  ['graduate', ['Masters', 'Prof-school', 'Doctorate']],
];

export function ageBand(age: number): string {
  if (age < 30) return '18-29';
  if (age < 45) return '30-44';
  if (age < 65) return '45-64';
  return '65+';
}

export function educationBand(education: string): string {
  return EDUCATION_BANDS.find(([, values]) => values.includes(education))?.[0] ?? 'other';
}

/** liberal / moderate / conservative from the stance label ("slightly liberal" is liberal). */
export function partisanship(stance: string): string {
  if (stance.includes('liberal')) return 'liberal';
  if (stance.includes('conservative')) return 'conservative';
  return 'moderate';
}

/** 0 moderate, 1 slightly, 2 plain (liberal / conservative), 3 very. */
export function stanceStrength(stance: string): string {
  if (!stance.includes('liberal') && !stance.includes('conservative')) return '0 moderate';
  if (stance.startsWith('slightly')) return '1 slightly';
  if (stance.startsWith('very')) return '3 very';
  return '2 plain';
}

/**
 * Quintiles of follower count at the fork: a user is in quintile floor(5 · (users with fewer
 * followers) / users) + 1, so tied users share a quintile (in a sparse network most users have
 * none and the low quintiles merge into Q1); labelled with the range of counts each holds.
 */
export function followerQuintiles(users: readonly number[], followers: (u: number) => number): Map<number, string> {
  const counts = users.map(followers).sort((a, b) => a - b);
  const fewer = (x: number) => {
    let lo = 0;
    let hi = counts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (counts[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const quintile = new Map(users.map((u) => [u, Math.floor((5 * fewer(followers(u))) / users.length) + 1]));
  const range = new Map<number, [number, number]>();
  for (const u of users) {
    const q = quintile.get(u)!;
    const f = followers(u);
    const r = range.get(q);
    range.set(q, r ? [Math.min(r[0], f), Math.max(r[1], f)] : [f, f]);
  }
  return new Map(
    users.map((u) => {
      const q = quintile.get(u)!;
      const [lo, hi] = range.get(q)!;
      return [u, `Q${q} (${lo === hi ? lo : `${lo}-${hi}`} followers)`];
    }),
  );
}

/** The paired effect of each condition by persona attribute, over eligible users. */
export function heterogeneity(
  conditions: ReadonlyArray<{ c: ConditionData; outcomes: Outcomes }>,
  control: Outcomes,
  personas: Map<number, Persona>,
  followers: (u: number) => number,
): HeterogeneityRow[] {
  const adults = [...personas.values()].filter((p) => p.age >= 18);
  const quintile = followerQuintiles(
    adults.map((p) => p.id),
    followers,
  );
  const attributes: Array<[string, (p: Persona) => string]> = [
    ['age band', (p) => ageBand(p.age)],
    ['education', (p) => educationBand(p.education)],
    ['partisanship', (p) => partisanship(p.politicalStance)],
    ['stance strength', (p) => stanceStrength(p.politicalStance)],
    ['model tier', (p) => p.tier],
    ['follower-count quintile', (p) => quintile.get(p.id) ?? '-'],
  ];
  const rows: HeterogeneityRow[] = [];
  for (const { c, outcomes } of conditions) {
    for (const [attribute, groupOf] of attributes) {
      const groups = new Map<string, number[]>();
      for (const p of adults) {
        const g = groupOf(p);
        const members = groups.get(g);
        if (members) members.push(p.id);
        else groups.set(g, [p.id]);
      }
      for (const group of [...groups.keys()].sort()) {
        const members = groups.get(group)!;
        rows.push({
          stream: c.stream,
          condition: c.condition,
          attribute,
          group,
          users: members.length,
          likelihood: pairedOver(members, outcomes.likelihood, control.likelihood),
          turnout: pairedOver(members, outcomes.turnout, control.turnout),
        });
      }
    }
  }
  return rows;
}

/**
 * A dose trend: the OLS slope of the per-user difference d on the dose x, with the
 * heteroskedasticity-robust (HC0) standard error sqrt(Σ (x - x̄)² e² ) / Σ (x - x̄)², and the
 * two-sided normal p-value. Null when every user has the same dose (no slope to estimate).
 */
export interface Trend {
  slope: number;
  se: number;
  z: number | null;
  p: number | null;
  users: number;
}

export function doseTrend(dose: readonly number[], d: readonly number[], cdf: (x: number) => number): Trend | null {
  if (dose.length < 2) return null;
  const xm = mean(dose);
  const dm = mean(d);
  let sxx = 0;
  let sxd = 0;
  for (let i = 0; i < dose.length; i++) {
    sxx += (dose[i] - xm) ** 2;
    sxd += (dose[i] - xm) * (d[i] - dm);
  }
  if (sxx === 0) return null;
  const slope = sxd / sxx;
  const intercept = dm - slope * xm;
  let meat = 0;
  for (let i = 0; i < dose.length; i++) meat += (dose[i] - xm) ** 2 * (d[i] - intercept - slope * dose[i]) ** 2;
  const se = Math.sqrt(meat) / sxx;
  // No variation left around the line: a zero slope is no evidence of a trend, any other is exact.
  const z = se > 0 ? slope / se : slope === 0 ? 0 : null;
  const p = z === null ? 0 : 2 * (1 - cdf(Math.abs(z)));
  return { slope, se, z, p, users: dose.length };
}
