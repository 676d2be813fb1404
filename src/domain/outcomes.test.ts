import { describe, expect, it } from 'vitest';
import { conditionTotals, type UserOutcome } from './outcomes.js';

const user = (eligible: boolean, treated: boolean, voted: boolean, finalLikelihood: number | null): UserOutcome => ({ eligible, treated, voted, finalLikelihood });

describe('the figures of a condition', () => {
  it('counts turnout among eligible users, by treatment, and the mean final likelihood over those who stated one', () => {
    const totals = conditionTotals([
      user(true, true, true, 4),
      user(true, true, false, 1),
      user(true, false, true, 3),
      user(true, false, false, null),
      user(true, false, false, 0),
      // a minor: never treated, never asked, not in turnout
      user(false, false, false, null),
    ]);
    expect(totals).toEqual({
      users: 6,
      eligible: 5,
      voters: 2,
      turnout: 2 / 5,
      treated: 2,
      turnoutTreated: 1 / 2,
      turnoutUntreated: 1 / 3,
      stated: 4,
      meanFinalLikelihood: (4 + 1 + 3 + 0) / 4,
      meanFinalLikelihoodTreated: (4 + 1) / 2,
      meanFinalLikelihoodUntreated: (3 + 0) / 2,
    });
  });

  it('gives null where a share has no denominator', () => {
    expect(conditionTotals([user(false, false, false, null)])).toMatchObject({ eligible: 0, turnout: null, turnoutTreated: null, turnoutUntreated: null, stated: 0, meanFinalLikelihood: null });
    expect(conditionTotals([])).toMatchObject({ users: 0, turnout: null });
  });
});
