/**
 * Normal-approximation power for a two-sided test of "effect = 0", used by `sim plan`. Pure
 * arithmetic; docs/analysis.md derives each formula.
 */

/**
 * Standard normal CDF by Marsaglia's series 0.5 + phi(x) (x + x^3/3 + x^5/(3·5) + ...), accurate to
 * about 1e-15 for |x| < 8 (beyond, 0 or 1 to double precision).
 */
export function normalCdf(x: number): number {
  if (x < -8) return 0;
  if (x > 8) return 1;
  let term = x;
  let sum = x;
  for (let k = 1; k < 500 && Math.abs(term) > 1e-17 * Math.abs(sum); k++) {
    term *= (x * x) / (2 * k + 1);
    sum += term;
  }
  return 0.5 + sum * Math.exp(-(x * x) / 2 - 0.9189385332046728);
}

/** Inverse standard normal CDF (Acklam's rational approximation, relative error < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normalQuantile: p must be in (0, 1), got ${p}`);
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - low) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/** Power of the two-sided level-alpha z test when the estimate has standard error se and mean effect. */
export function power(effect: number, se: number, alpha: number): number {
  if (se <= 0) return effect === 0 ? alpha : 1;
  const z = normalQuantile(1 - alpha / 2);
  const shift = Math.abs(effect) / se;
  return normalCdf(shift - z) + normalCdf(-shift - z);
}

/**
 * What a pilot says about one effect's noise. Per user: the variance of the outcome difference
 * (paired) or the sum of the two arms' outcome variances (unpaired), over the users who have an
 * outcome, who are a share `included` of all users. Between seeds: tau², the variance of the
 * effect from one simulation seed to another beyond within-seed sampling (0 with one pilot seed).
 */
export interface NoiseModel {
  pairedVariance: number;
  unpairedVariance: number;
  included: number;
  tau2: number;
  /**
   * How tau² was measured, when it was: the pilot seeds, the variance of their effects and the
   * mean of their squared standard errors (tau² = max(0, between - within)).
   */
  seeds?: number;
  between?: number;
  within?: number;
}

/**
 * The standard error of the pooled effect for a design of `users` users per condition and `seeds`
 * seeds: sqrt((sigma² / (included · users) + tau²) / seeds), the pooling estimator of
 * report/stats.ts applied to equal seeds.
 */
export function designSe(noise: NoiseModel, design: { users: number; seeds: number }, paired: boolean): number {
  const sigma2 = paired ? noise.pairedVariance : noise.unpairedVariance;
  return Math.sqrt((sigma2 / (noise.included * design.users) + noise.tau2) / design.seeds);
}

/**
 * The fewest users (for a given number of seeds) that reach `target` power, from the one-tail
 * approximation n = sigma² / (included · (seeds · (D / (z_a + z_b))² - tau²)); null when tau²
 * alone keeps power below target at this many seeds.
 */
export function usersNeeded(noise: NoiseModel, seeds: number, effect: number, alpha: number, target: number, paired: boolean): number | null {
  const sigma2 = paired ? noise.pairedVariance : noise.unpairedVariance;
  const v = (Math.abs(effect) / (normalQuantile(1 - alpha / 2) + normalQuantile(target))) ** 2;
  const room = seeds * v - noise.tau2;
  if (room <= 0) return null;
  return Math.max(1, Math.ceil(sigma2 / (noise.included * room)));
}
