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
