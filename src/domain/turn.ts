import { electionRound, type ExperimentConfig } from './config.js';
import { certainTurnAnswer, turnAnswerSchema, turnValueProblems, type ProviderAnswer, type TurnAnswer, type TurnRequest } from './decision.js';
import { buildFeed, type FeedContext } from './feed.js';
import { isEligible } from './persona.js';
import { rng } from './rng.js';
import { nextActivity } from './schedule.js';
import { treatmentMessageFor } from './treatment.js';
import { sortedIncludes, turnSummary, type World } from './world.js';
import { makeEvent, type SimEvent } from './events.js';

/** What an active turn depends on besides the world: the run's seed, stage and round. */
export interface TurnContext {
  config: ExperimentConfig;
  seed: number;
  /** Names the random streams: "warmup" or "main" (shared by every condition: common random numbers). */
  stage: string;
  round: number;
  feed: FeedContext;
  /** Likely voters network-wide at the start of the round (for the social message). */
  likelyVoters: number;
}

export function daysLeft(config: ExperimentConfig, round: number): number {
  return electionRound(config) - round;
}

/** The request an active agent answers, built from the state at the start of the round. */
export function buildTurnRequest(ctx: TurnContext, agentId: number): TurnRequest {
  const { config, seed, stage, round } = ctx;
  const world = ctx.feed.world;
  const persona = world.personas[agentId];
  const agent = world.agents[agentId];
  // One stream for what the agent is shown (feed, invitation, social list); the schedule and the
  // offline model's answer draw from streams of their own, so they stay paired across conditions.
  const shown = rng(seed, stage, round, agentId, 'shown');
  const feed = buildFeed(ctx.feed, agentId, config, shown);
  const eligible = isEligible(persona);
  const left = daysLeft(config, round);

  let invitePost: TurnRequest['invitePost'] = null;
  const invite = shown;
  if (invite.next() < config.content.invite_probability) {
    const fromFeed = feed.length > 0 && invite.next() < config.content.topic_from_feed_probability;
    const source = fromFeed ? invite.pick(feed) : null;
    const topic = source ? source.topic : invite.pick(persona.interests);
    const political = topic.toLowerCase() === config.topic.toLowerCase() || topic.toLowerCase() === 'politics';
    invitePost = political
      ? { topic, subtopic: 'the upcoming election', daysLeft: left }
      : { topic, subtopic: source ? source.subtopic : topic, daysLeft: null };
  }

  return {
    purpose: 'turn',
    key: { seed, agentId, round, purpose: 'turn' },
    model: persona.model,
    temperature: config.llm.temperature,
    persona,
    round,
    stage,
    topic: config.topic,
    previousTurn: turnSummary(world, agent.lastTurn),
    previousLikelihood: eligible ? agent.likelihood : null,
    feed,
    election: eligible ? { daysLeft: left } : null,
    treatment: eligible ? treatmentMessageFor(world, agentId, config, ctx.likelyVoters, () => shown) : null,
    invitePost,
    activityRange: { min: config.activity.min_interval, max: config.activity.max_interval },
  };
}

/**
 * Facts of the round shared between agents as their decisions are applied in ascending id order:
 * the next post id, and replies added so far this round (so "seen" records the count at that moment).
 */
export interface RoundLedger {
  nextPostId: number;
  repliesAdded: Map<number, number>;
}

export function newLedger(world: World): RoundLedger {
  return { nextPostId: world.posts.length, repliesAdded: new Map() };
}

/** The documented fallback when a whole answer is unusable: do nothing, keep the last likelihood. */
const FALLBACK_LIKELIHOOD_WHEN_NONE = 2;

/**
 * Turns an agent's answer into events, in a fixed order: fallbacks, likes and replies (by post
 * number), follow changes, a new post, posts seen, the stated likelihood, the next activity.
 * Everything the answer lacks or gets wrong is replaced by a documented fallback and recorded.
 */
export function applyTurn(ctx: TurnContext, request: TurnRequest, answer: ProviderAnswer, ledger: RoundLedger): SimEvent[] {
  const { config, round } = ctx;
  const world = ctx.feed.world;
  const agentId = request.key.agentId;
  const events: SimEvent[] = [];
  const fellBack = (field: string, reason: string, raw: string | null = null) =>
    events.push(makeEvent('DecisionFellBack', { purpose: 'turn', field, reason, raw }, round, agentId));

  let decision: TurnAnswer | null = null;
  if (!answer.ok) {
    fellBack('answer', answer.reason, answer.raw);
  } else {
    decision = certainTurnAnswer(answer.value);
    if (!decision) {
      const parsed = turnAnswerSchema.safeParse(answer.value);
      if (parsed.success) decision = parsed.data;
      else fellBack('answer', `not a valid turn answer: ${parsed.error.issues[0]?.message ?? 'invalid'}`, answer.raw);
    }
  }

  const acts: SimEvent[] = [];
  const follows: SimEvent[] = [];
  const answered = new Set<number>();
  const followChanged = new Set<number>();
  const engagement = sortedByPostNumber(decision?.engagement ?? []);
  const badNumbers: number[] = [];
  for (const item of engagement) {
    const feedItem = request.feed[item.post_number - 1];
    if (!feedItem) {
      badNumbers.push(item.post_number);
      continue;
    }
    if (answered.has(feedItem.postId)) continue;
    answered.add(feedItem.postId);
    const post = world.posts[feedItem.postId];
    if (item.engage === 'like' && !sortedIncludes(world.agents[agentId].liked, post.id)) {
      acts.push(makeEvent('PostLiked', { postId: post.id }, round, agentId));
    } else if (item.engage === 'reply') {
      const text = (item.reply_text ?? '').trim().slice(0, config.content.max_chars);
      if (text.length === 0) {
        fellBack('engagement.reply_text', `reply to post ${item.post_number} had no text: treated as no engagement`);
      } else if (!sortedIncludes(world.agents[agentId].replied, post.id)) {
        acts.push(makeEvent('PostReplied', { postId: post.id, text }, round, agentId));
        ledger.repliesAdded.set(post.id, (ledger.repliesAdded.get(post.id) ?? 0) + 1);
      }
    }
    const author = post.authorId;
    if (author !== agentId && !followChanged.has(author)) {
      const following = sortedIncludes(world.agents[agentId].following, author);
      if (item.follow_action === 'follow' && !following) {
        follows.push(makeEvent('UserFollowed', { targetId: author }, round, agentId));
        followChanged.add(author);
      } else if (item.follow_action === 'unfollow' && following) {
        follows.push(makeEvent('UserUnfollowed', { targetId: author }, round, agentId));
        followChanged.add(author);
      }
    }
  }
  if (badNumbers.length > 0) {
    fellBack('engagement.post_number', `post numbers ${badNumbers.join(', ')} are not in the feed (1-${request.feed.length}): ignored`);
  }
  events.push(...acts, ...follows);

  const content = (decision?.generated_content ?? '').trim().slice(0, config.content.max_chars);
  if (request.invitePost && content.length > 0) {
    const postRng = rng(ctx.seed, ctx.stage, round, agentId, 'post-subtopic');
    const subtopic = postRng.pick(request.persona.interests);
    events.push(makeEvent('PostCreated', { postId: ledger.nextPostId, authorId: agentId, topic: 'general', subtopic, text: content }, round, agentId));
    ledger.nextPostId += 1;
  }

  if (answered.size > 0) {
    const seen = ascending([...answered]).map((postId): [number, number] => [postId, world.posts[postId].replies.length + (ledger.repliesAdded.get(postId) ?? 0)]);
    events.push(makeEvent('PostsSeen', { posts: seen }, round, agentId));
  }

  if (request.election) {
    const stated = decision?.voting_likelihood;
    let likelihood: number;
    if (typeof stated === 'number' && Number.isInteger(stated) && stated >= 0 && stated <= 4) {
      likelihood = stated;
    } else {
      likelihood = request.previousLikelihood ?? FALLBACK_LIKELIHOOD_WHEN_NONE;
      if (decision) {
        const problem = turnValueProblems(request, { ...decision, engagement: [] })[0];
        fellBack('voting_likelihood', `${problem ?? 'voting_likelihood unusable'}: kept ${request.previousLikelihood === null ? `the scale midpoint ${FALLBACK_LIKELIHOOD_WHEN_NONE}` : `the previous answer ${likelihood}`}`);
      }
    }
    events.push(makeEvent('VotingIntentionStated', { likelihood }, round, agentId));
  }

  const proposal = decision?.next_activity_time;
  const scheduled = nextActivity(round, proposal, config.activity, rng(ctx.seed, ctx.stage, round, agentId, 'schedule'));
  if (decision && scheduled.proposed === null) {
    fellBack('next_activity_time', `proposal ${proposal ?? 'missing'} outside ${config.activity.min_interval}-${config.activity.max_interval}: drew one uniformly`);
  }
  events.push(makeEvent('NextActivityScheduled', { nextRound: scheduled.nextRound, proposed: scheduled.proposed }, round, agentId));
  return events;
}

/*
 * Insertion sorts for the few items of one answer (Array.prototype.sort allocates a work array per
 * call). Both are stable, like Array.prototype.sort, so the order is the one it gives.
 */
function sortedByPostNumber<T extends { post_number: number }>(items: readonly T[]): T[] {
  const out = items.slice();
  for (let i = 1; i < out.length; i++) {
    const item = out[i];
    let j = i - 1;
    for (; j >= 0 && out[j].post_number > item.post_number; j--) out[j + 1] = out[j];
    out[j + 1] = item;
  }
  return out;
}

function ascending(values: number[]): number[] {
  for (let i = 1; i < values.length; i++) {
    const v = values[i];
    let j = i - 1;
    for (; j >= 0 && values[j] > v; j--) values[j + 1] = values[j];
    values[j + 1] = v;
  }
  return values;
}
