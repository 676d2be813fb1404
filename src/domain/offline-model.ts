import type { DecisionRequest, InitialPostRequest, Provider, ProviderAnswer, TurnAnswer, TurnRequest, VoteRequest } from './decision.js';
import type { Persona } from './persona.js';
import { rng, type Rng } from './rng.js';

/**
 * The offline persona model: a documented behavioural model that answers the same requests an LLM
 * gets, in the same JSON shape, so the simulator runs with no API key. It is NOT a language model.
 * docs/offline-model.md explains each parameter and how it was calibrated against the reference.
 *
 * Voting likelihood: each user has a latent propensity from the classic turnout predictors (age,
 * education, marital status, strength of political stance) plus a persistent individual offset.
 * An answer is the propensity (plus a drift as the election nears, plus the treatment's boost, plus
 * momentary noise) cut into the 0-4 scale at fitted cutpoints. A user keeps the previous answer
 * unless it "reconsiders" (rarely, more often right after a message): LLM agents answer mostly
 * 1 or 3 and seldom change their mind, and this reproduces that shape.
 */

/** The likelihood parameters `sim calibrate` fits (the rest are set by hand and documented). */
export interface LikelihoodParameters {
  /** Latent values below cut01 answer 0, below cut12 answer 1, below cut23 2, below cut34 3, else 4. */
  cut01: number;
  cut12: number;
  cut23: number;
  cut34: number;
  /** Standard deviation of the momentary noise added to the latent value at each answer. */
  noiseSd: number;
  /** Probability that a user whose momentary answer differs from the previous one changes it. */
  reconsider: number;
  /** Added to `reconsider` when the informational / social message was shown and the answer would rise (may be negative). */
  reconsiderInformational: number;
  reconsiderSocial: number;
  /**
   * Factor on `reconsider` when a message (either) was shown and the answer would fall: a
   * get-out-the-vote message makes a user slower to lower its answer (1: no effect).
   */
  reconsiderDownMessage: number;
  /**
   * Factor on the reconsider probability for a move between 1 and 2 (either way): LLM agents who
   * say "probably not" seldom move to "might or might not" or back; when they change their mind
   * they go to "probably" (a momentary answer of 3 or more) (1: no effect).
   */
  reconsiderOneTwo: number;
  /** Shift of the latent value in the last `driftDays` days before the election. */
  drift: number;
  /** Latent shift while the informational message is shown. */
  informationalBoost: number;
  /** Latent shift while the social message is shown (plus socialBoostPerFriend per friend named). */
  socialBoost: number;
}

export const LIKELIHOOD_KEYS = ['cut01', 'cut12', 'cut23', 'cut34', 'noiseSd', 'reconsider', 'reconsiderInformational', 'reconsiderSocial', 'reconsiderDownMessage', 'reconsiderOneTwo', 'drift', 'informationalBoost', 'socialBoost'] as const satisfies ReadonlyArray<keyof LikelihoodParameters>;

/**
 * Fitted by `npx sim calibrate --to <reference> --seeds 1,2,3 --sim-seeds 1001,1002,1003,1004,1005,1006
 * --start <the previous fit>` (docs/offline-model.md): the reference's seeds 4-5 and the seeds of result_data/ were not fitted.
 */
export const DEFAULT_LIKELIHOOD: LikelihoodParameters = {
  cut01: -0.302719,
  cut12: 1.796807,
  cut23: 2.201213,
  cut34: 4.651936,
  noiseSd: 0.115328,
  reconsider: 0.470744,
  reconsiderInformational: 0.058522,
  reconsiderSocial: 0.348321,
  reconsiderDownMessage: 0.270473,
  reconsiderOneTwo: 0.122102,
  drift: 0.147459,
  informationalBoost: -0.036937,
  socialBoost: 0.054569,
};

export const OFFLINE_PARAMETERS = {
  ...DEFAULT_LIKELIHOOD,
  base: 2.34,
  age: [
    { min: 65, effect: 0.45 },
    { min: 50, effect: 0.3 },
    { min: 35, effect: 0.1 },
    { min: 25, effect: -0.15 },
    { min: 0, effect: -0.45 },
  ],
  education: {
    Doctorate: 0.45,
    'Prof-school': 0.45,
    Masters: 0.35,
    Bachelors: 0.25,
    'Assoc-acdm': 0.1,
    'Assoc-voc': 0.1,
    'Some-college': 0.05,
    'HS-grad': -0.1,
  } as Record<string, number>,
  /** Education levels below high school. */
  educationBelowHighSchool: -0.35,
  married: 0.15,
  neverMarried: -0.1,
  /** Per level of stance strength (moderate 0, slightly 1, plain 2, very 3). */
  stanceStrength: 0.15,
  /** Standard deviation of the persistent individual offset (the latent scale's unit). */
  individualSd: 0.9,
  /** The drift applies with fewer days than this left (30: the main stage, rounds 1-30). */
  driftDays: 30,
  /** Social message: added to the boost per followed likely voter named (up to 6). */
  socialBoostPerFriend: 0.03,
  /** Engagement. */
  likeBase: 0.14,
  replyBase: 0.015,
  positionDecay: 0.35,
  followedAuthorFactor: 1.6,
  interestFactor: 1.4,
  perFriendEngagement: 0.25,
  followAfterLike: 0.06,
  followOtherwise: 0.01,
  unfollowUnengaged: 0.01,
  /** P(voted | last likelihood 0..4), and when it never stated one. */
  voteGivenLikelihood: [0.03, 0.15, 0.45, 0.8, 0.95],
  voteWithoutLikelihood: 0.3,
};

export type OfflineParameters = typeof OFFLINE_PARAMETERS;

/** The model's parameters with fitted likelihood parameters in place of the built-in ones. */
export function offlineParameters(likelihood: LikelihoodParameters | null | undefined): OfflineParameters {
  return likelihood ? { ...OFFLINE_PARAMETERS, ...pickLikelihood(likelihood) } : OFFLINE_PARAMETERS;
}

export function pickLikelihood(p: LikelihoodParameters): LikelihoodParameters {
  return Object.fromEntries(LIKELIHOOD_KEYS.map((k) => [k, p[k]])) as unknown as LikelihoodParameters;
}

export function stanceStrength(stance: string): number {
  const s = stance.toLowerCase();
  if (s.includes('moderate') || s.includes('independent') || s.trim() === '') return 0;
  if (s.includes('very') || s.includes('strong') || s.includes('extreme')) return 3;
  if (s.includes('slight') || s.includes('lean')) return 1;
  return 2;
}

/** The persona part of the propensity (without the individual offset). */
export function basePropensity(persona: Pick<Persona, 'age' | 'education' | 'maritalStatus' | 'politicalStance'>, P: OfflineParameters = OFFLINE_PARAMETERS): number {
  let x = P.base;
  x += P.age.find((a) => persona.age >= a.min)?.effect ?? 0;
  x += P.education[persona.education.trim()] ?? P.educationBelowHighSchool;
  const marital = persona.maritalStatus.toLowerCase();
  if (marital.startsWith('married')) x += P.married;
  else if (marital.includes('never')) x += P.neverMarried;
  x += P.stanceStrength * stanceStrength(persona.politicalStance);
  return x;
}

/** The persistent individual offset, in units of the individual standard deviation. */
export function individualDraw(seed: number, agentId: number): number {
  return normal(rng(seed, 'offline', 0, agentId, 'propensity'));
}

export function propensity(seed: number, persona: Persona, P: OfflineParameters = OFFLINE_PARAMETERS): number {
  return basePropensity(persona, P) + P.individualSd * individualDraw(seed, persona.id);
}

export function treatmentBoost(treatment: TurnRequest['treatment'], P: Pick<OfflineParameters, 'informationalBoost' | 'socialBoost' | 'socialBoostPerFriend'> = OFFLINE_PARAMETERS): number {
  if (!treatment) return 0;
  if (treatment.kind === 'informational') return P.informationalBoost;
  return P.socialBoost + P.socialBoostPerFriend * Math.min(treatment.friendIds.length, 6);
}

/**
 * 1 in the last `driftDays` days before the election (the campaign), else 0. The answers follow
 * only as users reconsider, so the mean rises gradually, and more slowly as fewer are left to move.
 */
export function electionCloseness(daysLeft: number, driftDays: number): number {
  return daysLeft < driftDays ? 1 : 0;
}

export function cutLikelihood(latent: number, P: LikelihoodParameters): number {
  return latent < P.cut01 ? 0 : latent < P.cut12 ? 1 : latent < P.cut23 ? 2 : latent < P.cut34 ? 3 : 4;
}

/** The draws of one answer: from a stream of its own, so a fit can replay them without the feed's. */
export interface AnswerDraws {
  noise: number;
  reconsider: number;
}

export function answerDraws(seed: number, round: number, agentId: number): AnswerDraws {
  const r = rng(seed, 'offline', round, agentId, 'likelihood');
  return { noise: normal(r), reconsider: r.next() };
}

/**
 * The stated likelihood: the momentary answer (latent plus noise, cut into 0-4) for a first answer;
 * afterwards the previous answer, unless the momentary one differs and the user reconsiders.
 */
export function likelihoodAnswer(
  latent: number,
  previous: number | null,
  message: 'none' | 'informational' | 'social',
  draws: AnswerDraws,
  P: LikelihoodParameters,
): number {
  const momentary = cutLikelihood(latent + P.noiseSd * draws.noise, P);
  if (previous === null || momentary === previous) return momentary;
  // A get-out-the-vote message makes a user readier to raise the answer and slower to lower it.
  const p =
    message === 'none'
      ? P.reconsider
      : momentary < previous
        ? P.reconsider * P.reconsiderDownMessage
        : P.reconsider + (message === 'informational' ? P.reconsiderInformational : P.reconsiderSocial);
  const oneTwo = momentary + previous === 3 && momentary * previous === 2 ? P.reconsiderOneTwo : 1;
  return draws.reconsider < p * oneTwo ? momentary : previous;
}

export function offlineTurn(
  request: TurnRequest,
  propensityOf: (seed: number, persona: Persona) => number = propensity,
  P: OfflineParameters = OFFLINE_PARAMETERS,
): TurnAnswer {
  const { key, persona } = request;
  const r = rng(key.seed, 'offline', key.round, key.agentId, 'turn');

  const engagement = request.feed.map((item) => {
    const followed = item.authorFollowed;
    const interest = persona.interests.includes(item.subtopic);
    const weight =
      (1 / (1 + P.positionDecay * (item.number - 1))) *
      (followed ? P.followedAuthorFactor : 1) *
      (interest ? P.interestFactor : 1) *
      (1 + P.perFriendEngagement * Math.min(item.likesByFollowed + item.repliesByFollowed, 4));
    const u = r.next();
    const engage: 'nothing' | 'like' | 'reply' = u < P.replyBase * weight ? 'reply' : u < (P.replyBase + P.likeBase) * weight ? 'like' : 'nothing';
    const f = r.next();
    const follow_action: 'follow' | 'unfollow' | 'no_change' = followed
      ? engage === 'nothing' && f < P.unfollowUnengaged
        ? 'unfollow'
        : 'no_change'
      : f < (engage === 'nothing' ? P.followOtherwise : P.followAfterLike)
        ? 'follow'
        : 'no_change';
    return {
      post_number: item.number,
      engage,
      reply_text: engage === 'reply' ? replyText(persona, item.subtopic, r) : undefined,
      follow_action,
    };
  });

  const answer: TurnAnswer = { engagement, next_activity_time: proposeInterval(persona, request.activityRange, r) };
  if (request.invitePost) answer.generated_content = postText(persona, request.invitePost.topic, request.invitePost.subtopic, request.invitePost.daysLeft, r);
  if (request.election) {
    const latent = propensityOf(key.seed, persona) + P.drift * electionCloseness(request.election.daysLeft, P.driftDays) + treatmentBoost(request.treatment, P);
    answer.voting_likelihood = likelihoodAnswer(latent, request.previousLikelihood, request.treatment?.kind ?? 'none', answerDraws(key.seed, key.round, key.agentId), P);
  }
  return answer;
}

export function offlineVote(request: VoteRequest, P: OfflineParameters = OFFLINE_PARAMETERS): { voted: 0 | 1 } {
  const r = rng(request.key.seed, 'offline', request.key.round, request.key.agentId, 'vote');
  const p = request.lastLikelihood === null ? P.voteWithoutLikelihood : P.voteGivenLikelihood[request.lastLikelihood];
  return { voted: r.next() < p ? 1 : 0 };
}

export function offlineInitialPost(request: InitialPostRequest): { content: string } {
  const r = rng(request.key.seed, 'offline', request.key.round, request.key.agentId, 'initial_post');
  return { content: postText(request.persona, request.topic, request.subtopic, null, r).slice(0, request.maxChars) };
}

/** Work schedule sets the rhythm: long hours, longer gaps between visits. */
function proposeInterval(persona: Persona, range: { min: number; max: number }, r: Rng): number {
  const mid = (range.min + range.max) / 2 + (persona.hoursPerWeek - 40) / 25;
  return Math.min(range.max, Math.max(range.min, Math.round(mid + 1.2 * normal(r))));
}

const OPENERS = ['Thinking about', 'Quick thought on', 'Can we talk about', 'My take on', 'Still reading up on'];
const CLOSERS = ['What do you all think?', 'Curious where others stand.', 'Worth a conversation.', 'Just my two cents.', 'Let me know.'];
const REPLIES = ['Good point.', 'I see it differently.', 'Agreed, well said.', 'Interesting, tell me more.', 'Not sure about this one.', 'Thanks for sharing.'];

function postText(persona: Persona, topic: string, subtopic: string, daysLeft: number | null, r: Rng): string {
  const when = daysLeft === null ? '' : daysLeft === 0 ? ' Election is today.' : daysLeft === 1 ? ' Election is tomorrow.' : ` ${daysLeft} days to the election.`;
  const voice = persona.politicalStance ? ` (${persona.politicalStance} view)` : '';
  return `${r.pick(OPENERS)} ${postSubject(topic, subtopic)}${voice}.${when} ${r.pick(CLOSERS)}`.slice(0, 140);
}

/** What a generated post is about: "health in politics", or "politics" alone when the subtopic is the topic (never "politics in politics"). */
export function postSubject(topic: string, subtopic: string): string {
  const t = topic.toLowerCase();
  const s = subtopic.toLowerCase();
  return s === t ? t : `${s} in ${t}`;
}

function replyText(persona: Persona, subtopic: string, r: Rng): string {
  return `${r.pick(REPLIES)} As someone into ${persona.interests[0]?.toLowerCase() ?? subtopic.toLowerCase()}, this matters.`.slice(0, 140);
}

/** Standard normal draw (Box-Muller) from a stream. */
export function normal(r: Rng): number {
  const u = 1 - r.next();
  const v = r.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** The offline model as a Provider: answers immediately, never fails, makes no network call. */
export class OfflineProvider implements Provider {
  readonly name = 'offline persona model (not an LLM)';
  readonly offline = true;
  constructor(private readonly params: OfflineParameters = OFFLINE_PARAMETERS) {}
  /** Propensities are fixed per (seed, agent); remembering them saves a stream per turn. */
  private readonly propensities = new Map<string, number>();
  private readonly propensityOf = (seed: number, persona: Persona): number => {
    const key = `${seed}:${persona.id}`;
    let value = this.propensities.get(key);
    if (value === undefined) this.propensities.set(key, (value = propensity(seed, persona, this.params)));
    return value;
  };

  async decide(request: DecisionRequest): Promise<ProviderAnswer> {
    const value =
      request.purpose === 'turn'
        ? offlineTurn(request, this.propensityOf, this.params)
        : request.purpose === 'vote'
          ? offlineVote(request, this.params)
          : offlineInitialPost(request);
    return { ok: true, value, raw: '', cached: false, usage: null };
  }
}
