import type { LikelihoodParameters } from '../../src/domain/offline-model.js';

/** Offline model parameters deliberately unlike the built-in ones, for calibration recovery tests. */
export const KNOWN: LikelihoodParameters = {
  cut01: 0.3,
  cut12: 1.4,
  cut23: 2.4,
  cut34: 3.4,
  noiseSd: 0.3,
  reconsider: 0.15,
  reconsiderInformational: 0.05,
  reconsiderSocial: 0.25,
  reconsiderDownMessage: 0.3,
  reconsiderOneTwo: 0.5,
  drift: 0.5,
  informationalBoost: 0.15,
  socialBoost: 0.6,
};

/**
 * Recovery tolerances, in the parameters' own units, for a fit on a few hundred users. The
 * cutpoints, drift and boosts are pinned by the distributions, the curve and the effects; the noise
 * and the reconsider probabilities trade against each other (more noise and less reconsidering give
 * similar shapes), the slower lowering under a message trades against the boosts (a boost also makes
 * lower momentary answers rarer), and few users ever answer 0, so those get more room.
 */
export const TOLERANCE: Record<keyof LikelihoodParameters, number> = {
  cut01: 0.6,
  cut12: 0.15,
  cut23: 0.15,
  cut34: 0.15,
  noiseSd: 0.15,
  reconsider: 0.08,
  reconsiderInformational: 0.1,
  reconsiderSocial: 0.15,
  reconsiderDownMessage: 0.35,
  reconsiderOneTwo: 0.35,
  drift: 0.25,
  informationalBoost: 0.15,
  socialBoost: 0.25,
};

export function recoveryMisses(fitted: LikelihoodParameters): string[] {
  return (Object.keys(KNOWN) as Array<keyof LikelihoodParameters>)
    .filter((k) => !(Math.abs(fitted[k] - KNOWN[k]) <= TOLERANCE[k]))
    .map((k) => `${k}: fitted ${fitted[k].toFixed(3)}, known ${KNOWN[k]} (tolerance ${TOLERANCE[k]})`);
}
