import { describe, expect, it } from 'vitest';
import type { LikelihoodParameters } from '../domain/offline-model.js';
import { decode, encode, quantileCutpoints, type FitTarget } from './fit.js';
import type { ConditionShape } from './shape.js';
import { replayShape, recordSchedule, type Schedule, type Statements } from './surrogate.js';
import { FIT_CONDITIONS } from './targets.js';
import { KNOWN } from '../../test/support/known-offline-params.js';

describe('the surrogate', () => {
  it('replays exactly the answers the engine gave (same parameters, same schedule)', async () => {
    const s = await recordSchedule({ nUsers: 150, seed: 31, likelihood: KNOWN });
    for (const c of FIT_CONDITIONS) expect(replayShape(s.conditions[c], s.rounds.length, KNOWN)).toEqual(s.observed[c]);
  }, 600_000);

  it('encodes parameters for the optimiser and back without loss', () => {
    const back = decode(encode(KNOWN));
    for (const k of Object.keys(KNOWN) as Array<keyof LikelihoodParameters>) expect(back[k]).toBeCloseTo(KNOWN[k], 9);
  });
});

// Recovery of known parameters from an exported run, through `sim calibrate`: test/calibrate.test.ts.

describe('the anchored start', () => {
  it("puts the cutpoints at the quantiles of the users' first propensities given by the target's first answers", () => {
    // 1,000 users with propensities 0, 1, ..., 999 (one statement each); first answers 10/20/30/30/10%:
    // the cutpoints are the 10th, 30th, 60th and 90th percentiles, i.e. values[100], [300], [600], [900].
    const n = 1000;
    const control = { agentStart: Array.from({ length: n + 1 }, (_, i) => i), persona: Float64Array.from({ length: n }, (_, i) => i) } as unknown as Statements;
    const schedule = { conditions: { control } } as unknown as Schedule;
    const target = { rounds: [], shapes: { control: { first: [0.1, 0.2, 0.3, 0.3, 0.1] } as ConditionShape } } as unknown as FitTarget;
    expect(quantileCutpoints([schedule], target)).toEqual({ cut01: 100, cut12: 300, cut23: 600, cut34: 900 });
    // No one answers 0: the first cutpoint goes just above the lowest users (0.2%), and the order holds.
    const none = { rounds: [], shapes: { control: { first: [0, 0.5, 0, 0.5, 0] } as ConditionShape } } as unknown as FitTarget;
    expect(quantileCutpoints([schedule], none)).toEqual({ cut01: 2, cut12: 500, cut23: 500.01, cut34: 998 });
  });
});
