/**
 * Estimates for the report. A difference in means between two independent groups with the
 * Neyman / HC2 standard error sqrt(s1²/n1 + s0²/n0) (for a binary treatment indicator regression
 * HC2 equals exactly this), and a 95% normal interval.
 */
export interface Estimate {
  estimate: number;
  se: number;
  ci95: [number, number];
  n1: number;
  n0: number;
}

export function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Sample variance (n - 1 in the denominator). */
export function variance(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1);
}

export function differenceInMeans(treated: readonly number[], control: readonly number[]): Estimate | null {
  if (treated.length === 0 || control.length === 0) return null;
  const estimate = mean(treated) - mean(control);
  const se = Math.sqrt(variance(treated) / treated.length + variance(control) / control.length);
  return { estimate, se, ci95: [estimate - 1.959963984540054 * se, estimate + 1.959963984540054 * se], n1: treated.length, n0: control.length };
}

/** Mean and sample standard deviation of per-run estimates (the between-run spread). */
export function spread(values: readonly number[]): { mean: number; sd: number; runs: number } | null {
  if (values.length === 0) return null;
  return { mean: mean(values), sd: Math.sqrt(variance(values)), runs: values.length };
}

const Z95 = 1.959963984540054;

/**
 * The mean of per-user differences (condition minus control, the same user under both) with the
 * paired standard error sd(d) / sqrt(n) and a 95% normal interval. Every condition forks from the
 * same warmup state with common random numbers, so each user has an outcome under both: this is
 * the effect on these simulated users. When every difference is the same the interval has zero
 * width, as it should: the users' outcomes did not change at all. Null for fewer than two users.
 */
export interface PairedEstimate {
  estimate: number;
  se: number;
  ci95: [number, number];
  /** Users present in both. */
  n: number;
  /** Sample standard deviation of the per-user differences (what a power calculation needs). */
  sd: number;
}

export function pairedDifference(treated: readonly number[], control: readonly number[]): PairedEstimate | null {
  if (treated.length !== control.length) throw new Error(`pairedDifference: ${treated.length} treated values for ${control.length} control values`);
  // One user gives no variance to estimate: no interval rather than a falsely exact one.
  if (treated.length < 2) return null;
  const d = treated.map((x, i) => x - control[i]);
  const estimate = mean(d);
  const sd = Math.sqrt(variance(d));
  const se = sd / Math.sqrt(d.length);
  return { estimate, se, ci95: [estimate - Z95 * se, estimate + Z95 * se], n: d.length, sd };
}

/**
 * Pools per-seed estimates of one effect (separate simulation seeds: independent replications).
 * Estimator: the equal-weight mean of the k per-seed estimates, with variance (tau² + w) / k, where
 * w is the mean within-seed variance (mean of se²) and tau² = max(0, s² - w) the between-seed
 * variance by the method of moments (s² the sample variance of the estimates). So the variance is
 * max(s², w) / k: the spread between seeds when it exceeds what sampling within seeds explains,
 * else the within-seed variance. One seed gives its own estimate and SE. 95% normal interval.
 */
export interface PooledEstimate {
  estimate: number;
  se: number;
  ci95: [number, number];
  seeds: number;
  /** Sample variance of the per-seed estimates (0 for one seed). */
  between: number;
  /** Mean of the per-seed squared standard errors. */
  within: number;
  tau2: number;
}

export function poolSeeds(perSeed: ReadonlyArray<{ estimate: number; se: number }>): PooledEstimate | null {
  const k = perSeed.length;
  if (k === 0) return null;
  const estimate = mean(perSeed.map((e) => e.estimate));
  const within = mean(perSeed.map((e) => e.se ** 2));
  const between = variance(perSeed.map((e) => e.estimate));
  const tau2 = k > 1 ? Math.max(0, between - within) : 0;
  const se = Math.sqrt((tau2 + within) / k);
  return { estimate, se, ci95: [estimate - Z95 * se, estimate + Z95 * se], seeds: k, between, within, tau2 };
}

/** 95% normal interval of a proportion, clipped to [0, 1]. */
export function proportionInterval(successes: number, n: number): [number, number] | null {
  if (n === 0) return null;
  const p = successes / n;
  const half = Z95 * Math.sqrt((p * (1 - p)) / n);
  return [Math.max(0, p - half), Math.min(1, p + half)];
}
