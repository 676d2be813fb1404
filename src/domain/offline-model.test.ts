import { describe, expect, it } from 'vitest';
import { persona } from '../../test/support/world.js';
import type { TurnRequest } from './decision.js';
import {
  answerDraws,
  basePropensity,
  cutLikelihood,
  DEFAULT_LIKELIHOOD,
  electionCloseness,
  likelihoodAnswer,
  OFFLINE_PARAMETERS,
  offlineParameters,
  OfflineProvider,
  offlineTurn,
  offlineInitialPost,
  offlineVote,
  postSubject,
  propensity,
  treatmentBoost,
  type LikelihoodParameters,
} from './offline-model.js';
import type { Persona } from './persona.js';

const P: LikelihoodParameters = { ...DEFAULT_LIKELIHOOD, cut01: 0.5, cut12: 1.5, cut23: 2.5, cut34: 3.5, noiseSd: 0.4, reconsider: 0.1, reconsiderInformational: 0.2, reconsiderSocial: 0.5, reconsiderDownMessage: 0.4, reconsiderOneTwo: 0.5 };

function request(p: Persona, overrides: Partial<TurnRequest> = {}): TurnRequest {
  return {
    purpose: 'turn',
    key: { seed: 3, agentId: p.id, round: 5, purpose: 'turn' },
    model: 'm',
    temperature: 0.5,
    persona: p,
    round: 5,
    stage: 'main',
    topic: 'Politics',
    previousTurn: null,
    previousLikelihood: null,
    feed: [],
    election: { daysLeft: 25 },
    treatment: null,
    invitePost: null,
    activityRange: { min: 1, max: 5 },
    ...overrides,
  };
}

const social = (friends: number): TurnRequest['treatment'] => ({ kind: 'social', stimulus: 's', likelyVoters: 10, friendIds: Array.from({ length: friends }, (_, i) => i + 100) });
const informational: TurnRequest['treatment'] = { kind: 'informational', stimulus: 's', likelyVoters: null, friendIds: [] };

describe('the answer rule', () => {
  it('cuts the latent value at the cutpoints (a cutpoint itself belongs to the answer above)', () => {
    expect([-3, 0.49, 0.5, 1.49, 1.5, 2.49, 2.5, 3.49, 3.5, 9].map((x) => cutLikelihood(x, P))).toEqual([0, 0, 1, 1, 2, 2, 3, 3, 4, 4]);
  });

  it('answers the momentary value (latent + noiseSd x noise, cut) the first time', () => {
    // 2.3 + 0.4 x 0.6 = 2.54, at or above cut23 (2.5): 3. The reconsider draw plays no part.
    expect(likelihoodAnswer(2.3, null, 'none', { noise: 0.6, reconsider: 0.99 }, P)).toBe(3);
    // 2.3 + 0.4 x 0.4 = 2.46: 2.
    expect(likelihoodAnswer(2.3, null, 'none', { noise: 0.4, reconsider: 0.99 }, P)).toBe(2);
  });

  it('keeps the previous answer unless the momentary one differs and the draw is below the reconsider probability', () => {
    const up = { noise: 0.6 }; // momentary 3 from latent 2.3
    expect(likelihoodAnswer(2.3, 1, 'none', { ...up, reconsider: 0.09 }, P)).toBe(3); // 0.09 < 0.1
    expect(likelihoodAnswer(2.3, 1, 'none', { ...up, reconsider: 0.11 }, P)).toBe(1);
    // A message shifts the probability: 0.1 + 0.2 informational, 0.1 + 0.5 social.
    expect(likelihoodAnswer(2.3, 1, 'informational', { ...up, reconsider: 0.29 }, P)).toBe(3);
    expect(likelihoodAnswer(2.3, 1, 'informational', { ...up, reconsider: 0.31 }, P)).toBe(1);
    expect(likelihoodAnswer(2.3, 1, 'social', { ...up, reconsider: 0.59 }, P)).toBe(3);
    expect(likelihoodAnswer(2.3, 1, 'social', { ...up, reconsider: 0.61 }, P)).toBe(1);
    // Falling under a message: the probability is reconsider x reconsiderDownMessage = 0.1 x 0.4 = 0.04
    // (momentary 1 from latent 1.0 and no noise; previous 3).
    const down = { noise: 0 };
    expect(likelihoodAnswer(1.0, 3, 'none', { ...down, reconsider: 0.09 }, P)).toBe(1);
    expect(likelihoodAnswer(1.0, 3, 'none', { ...down, reconsider: 0.11 }, P)).toBe(3);
    for (const message of ['informational', 'social'] as const) {
      expect(likelihoodAnswer(1.0, 3, message, { ...down, reconsider: 0.039 }, P)).toBe(1);
      expect(likelihoodAnswer(1.0, 3, message, { ...down, reconsider: 0.041 }, P)).toBe(3);
    }
    // Between 1 and 2 (either way) the probability is times reconsiderOneTwo: 0.1 x 0.5 = 0.05 with no
    // message (momentary 2 from latent 2.0; momentary 1 from latent 1.0); 1 -> 3 is not affected.
    expect(likelihoodAnswer(2.0, 1, 'none', { ...down, reconsider: 0.049 }, P)).toBe(2);
    expect(likelihoodAnswer(2.0, 1, 'none', { ...down, reconsider: 0.051 }, P)).toBe(1);
    expect(likelihoodAnswer(1.0, 2, 'none', { ...down, reconsider: 0.049 }, P)).toBe(1);
    expect(likelihoodAnswer(1.0, 2, 'none', { ...down, reconsider: 0.051 }, P)).toBe(2);
    expect(likelihoodAnswer(2.6, 1, 'none', { ...down, reconsider: 0.099 }, P)).toBe(3);
    // ... and under a message, both factors: 2 -> 1 under the social message, 0.1 x 0.4 x 0.5 = 0.02.
    expect(likelihoodAnswer(1.0, 2, 'social', { ...down, reconsider: 0.019 }, P)).toBe(1);
    expect(likelihoodAnswer(1.0, 2, 'social', { ...down, reconsider: 0.021 }, P)).toBe(2);
    // Same momentary answer as before: nothing to reconsider.
    expect(likelihoodAnswer(2.3, 3, 'none', { ...up, reconsider: 0 }, P)).toBe(3);
  });

  it('boosts the latent value by the message: informational flat, social plus a share per friend named (up to 6)', () => {
    const b = { informationalBoost: 0.07, socialBoost: 0.2, socialBoostPerFriend: 0.03 };
    expect(treatmentBoost(null, b)).toBe(0);
    expect(treatmentBoost(informational, b)).toBe(0.07);
    expect(treatmentBoost(social(0), b)).toBeCloseTo(0.2, 12);
    expect(treatmentBoost(social(2), b)).toBeCloseTo(0.26, 12);
    expect(treatmentBoost(social(9), b)).toBeCloseTo(0.38, 12);
  });

  it('drifts only in the last driftDays days before the election', () => {
    expect([45, 31, 30, 29, 1, 0].map((d) => electionCloseness(d, 30))).toEqual([0, 0, 0, 1, 1, 1]);
  });
});

describe('the propensity', () => {
  it('adds the persona effects to the base (hand-computed)', () => {
    // 2.34 + 0.45 (65+) + 0.45 (Doctorate) + 0.15 (married) + 3 x 0.15 (very)
    expect(basePropensity({ age: 70, education: 'Doctorate', maritalStatus: 'Married-civ-spouse', politicalStance: 'very conservative' })).toBeCloseTo(3.84, 10);
    // 2.34 - 0.45 (under 25) - 0.35 (below high school) - 0.10 (never married) + 0 (moderate)
    expect(basePropensity({ age: 19, education: '11th', maritalStatus: 'Never-married', politicalStance: 'moderate' })).toBeCloseTo(1.44, 10);
  });

  it('adds a persistent individual offset with the documented spread, fixed per seed and user', () => {
    const offsets = Array.from({ length: 4000 }, (_, i) => propensity(1, persona(i)) - basePropensity(persona(i)));
    const mean = offsets.reduce((a, b) => a + b, 0) / offsets.length;
    const sd = Math.sqrt(offsets.reduce((a, b) => a + (b - mean) ** 2, 0) / offsets.length);
    expect(Math.abs(mean)).toBeLessThan(0.05); // 4 standard errors of 0.9 / sqrt(4000)
    expect(sd).toBeGreaterThan(0.85);
    expect(sd).toBeLessThan(0.95);
    expect(propensity(1, persona(7))).toBe(propensity(1, persona(7)));
    expect(propensity(2, persona(7))).not.toBe(propensity(1, persona(7)));
  });
});

describe('offlineTurn', () => {
  const old = (id: number) => persona(id, { age: 70, education: 'Doctorate', maritalStatus: 'Married-civ-spouse', politicalStance: 'very liberal' });
  const young = (id: number) => persona(id, { age: 19, education: '11th', maritalStatus: 'Never-married', politicalStance: 'moderate' });
  const firstAnswers = (make: (id: number) => Persona, overrides: Partial<TurnRequest> = {}) =>
    Array.from({ length: 1500 }, (_, id) => offlineTurn(request(make(id), overrides)).voting_likelihood!);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

  it('is the answer rule applied to the propensity and the agent\'s own likelihood stream', () => {
    const p = persona(12);
    const r = request(p, { previousLikelihood: 1, treatment: social(2) });
    const latent = propensity(3, p) + OFFLINE_PARAMETERS.drift + treatmentBoost(r.treatment);
    expect(offlineTurn(r).voting_likelihood).toBe(likelihoodAnswer(latent, 1, 'social', answerDraws(3, 5, 12), OFFLINE_PARAMETERS));
  });

  it('answers the same request the same way, and only in 0-4', () => {
    const r = request(persona(4), { previousLikelihood: 2 });
    expect(offlineTurn(r)).toEqual(offlineTurn(r));
    expect(new Set(firstAnswers(persona)).size).toBeGreaterThan(1);
    for (const v of firstAnswers(persona)) expect([0, 1, 2, 3, 4]).toContain(v);
  });

  it('gives no likelihood to users not asked about the election (under 18)', () => {
    expect(offlineTurn(request(persona(1, { age: 15 }), { election: null })).voting_likelihood).toBeUndefined();
  });

  it('answers higher for older, more educated, married, strongly opinionated personas', () => {
    // Their base propensities differ by 2.4 on the latent scale (3.84 vs 1.44): far more than noise.
    expect(mean(firstAnswers(old)) - mean(firstAnswers(young))).toBeGreaterThan(1);
  });

  it('moves answers up under the social message more than under the informational one, and both more than none', () => {
    // Same users, same draws (the streams do not name the condition): only the message differs.
    const after = (treatment: TurnRequest['treatment']) =>
      mean(Array.from({ length: 3000 }, (_, id) => offlineTurn(request(persona(id), { previousLikelihood: 1, treatment }), undefined, offlineParameters({ ...DEFAULT_LIKELIHOOD, socialBoost: 1, informationalBoost: 0.3, reconsider: 0.5, reconsiderInformational: 0, reconsiderSocial: 0 })).voting_likelihood!));
    const none = after(null);
    const info = after(informational);
    const soc = after(social(3));
    expect(info).toBeGreaterThan(none);
    expect(soc).toBeGreaterThan(info);
  });

  it('uses the parameters it is given (a provider built from a fitted file answers differently)', async () => {
    const everyoneFour = offlineParameters({ ...DEFAULT_LIKELIHOOD, cut01: -10, cut12: -9, cut23: -8, cut34: -7 });
    const answer = await new OfflineProvider(everyoneFour).decide(request(persona(5)));
    expect(answer.ok && (answer.value as { voting_likelihood: number }).voting_likelihood).toBe(4);
  });
});

describe('offlineVote', () => {
  it('votes with the documented probability for the last stated likelihood', () => {
    for (const [likelihood, p] of [[1, 0.15], [3, 0.8]] as const) {
      const votes = Array.from({ length: 4000 }, (_, id) => offlineVote({ purpose: 'vote', key: { seed: 1, agentId: id, round: 30, purpose: 'vote' }, model: 'm', temperature: 0.5, persona: persona(id), lastLikelihood: likelihood }).voted);
      const share = votes.reduce<number>((a, b) => a + b, 0) / votes.length;
      expect(Math.abs(share - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / votes.length));
    }
  });
});

describe('generated post text', () => {
  it('never reads "politics in politics": a subtopic that is the topic is named once', () => {
    expect(postSubject('Politics', 'Politics')).toBe('politics');
    expect(postSubject('Politics', 'Health')).toBe('health in politics');
    const request = (subtopic: string) =>
      ({ purpose: 'initial_post', key: { seed: 1, agentId: 3, round: -16, purpose: 'initial_post' }, model: 'm', temperature: 0.5, persona: persona(3), topic: 'Politics', subtopic, maxChars: 140 }) as Parameters<typeof offlineInitialPost>[0];
    expect(offlineInitialPost(request('Politics')).content).not.toMatch(/politics in politics/i);
    expect(offlineInitialPost(request('Politics')).content).toMatch(/ politics[ .(]/);
    expect(offlineInitialPost(request('Health')).content).toMatch(/ health in politics[ .(]/);
  });
});
