import { describe, expect, it } from 'vitest';
import { DEFAULT_LIKELIHOOD, type LikelihoodParameters } from '../domain/offline-model.js';
import { alternativeStarts, decode, encode, fitLikelihood, type FitTarget } from './fit.js';
import { replayShape, recordSchedule, type Schedule } from './surrogate.js';
import { FIT_CONDITIONS } from './targets.js';

/** Deliberately unlike the built-in parameters. */
export const KNOWN: LikelihoodParameters = {
  cut01: 0.3,
  cut12: 1.4,
  cut23: 2.4,
  cut34: 3.4,
  noiseSd: 0.3,
  reconsider: 0.15,
  reconsiderInformational: 0.05,
  reconsiderSocial: 0.25,
  drift: 0.5,
  informationalBoost: 0.15,
  socialBoost: 0.6,
};

/**
 * Recovery tolerances, in the parameters' own units. The cutpoints, drift and boosts are pinned by
 * the distributions, the curve and the effects; the noise and the reconsider probabilities trade
 * against each other (more noise and less reconsidering give similar shapes), so they get more room.
 */
export const TOLERANCE: Record<keyof LikelihoodParameters, number> = {
  cut01: 0.6, // few answers of 0 on 400 users: weakly pinned
  cut12: 0.15,
  cut23: 0.15,
  cut34: 0.15,
  noiseSd: 0.15,
  reconsider: 0.08,
  reconsiderInformational: 0.1,
  reconsiderSocial: 0.15,
  drift: 0.25,
  informationalBoost: 0.15,
  socialBoost: 0.25,
};

const observedTarget = (s: Schedule): FitTarget => ({ rounds: s.rounds, shapes: s.observed });

describe('the surrogate', () => {
  it('replays exactly the answers the engine gave (same parameters, same schedule)', async () => {
    const s = await recordSchedule({ nUsers: 150, seed: 31, likelihood: KNOWN });
    for (const c of FIT_CONDITIONS) expect(replayShape(s.conditions[c], s.rounds.length, KNOWN)).toEqual(s.observed[c]);
  }, 120_000);

  it('encodes parameters for the optimiser and back without loss', () => {
    const back = decode(encode(KNOWN));
    for (const k of Object.keys(KNOWN) as Array<keyof LikelihoodParameters>) expect(back[k]).toBeCloseTo(KNOWN[k], 9);
  });
});

describe('calibration on a synthetic target with known parameters', () => {
  it('recovers them within the stated tolerances, starting from the built-in parameters', async () => {
    // The target: an engine run with KNOWN. The fit: schedules recorded with the built-in parameters
    // on the same users (so only the social message's named friends differ), as `sim calibrate`
    // does on its first pass.
    const target = observedTarget(await recordSchedule({ nUsers: 400, seed: 32, likelihood: KNOWN }));
    const schedules = [await recordSchedule({ nUsers: 400, seed: 32, likelihood: DEFAULT_LIKELIHOOD })];
    const fit = fitLikelihood(schedules, target, [DEFAULT_LIKELIHOOD, ...alternativeStarts(DEFAULT_LIKELIHOOD)], { restarts: 3, evaluationsPerRestart: 600 });
    const misses = (Object.keys(KNOWN) as Array<keyof LikelihoodParameters>).filter((k) => Math.abs(fit.parameters[k] - KNOWN[k]) > TOLERANCE[k]);
    expect(misses.map((k) => `${k}: fitted ${fit.parameters[k].toFixed(3)}, known ${KNOWN[k]}`)).toEqual([]);
  }, 300_000);
});
