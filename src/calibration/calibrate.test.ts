import { describe, expect, it } from 'vitest';
import type { LikelihoodParameters } from '../domain/offline-model.js';
import { decode, encode } from './fit.js';
import { replayShape, recordSchedule } from './surrogate.js';
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
