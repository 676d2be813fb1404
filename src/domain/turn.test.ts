import { describe, expect, it } from 'vitest';
import { persona, worldOf } from '../../test/support/world.js';
import { makeEvent, type SimEvent } from './events.js';
import { parseExperiment } from './config.js';
import type { ProviderAnswer } from './decision.js';
import { applyVote, buildVoteRequest } from './election.js';
import { feedContext } from './feed.js';
import { given } from './testing/given-when-then.js';
import { applyTurn, buildTurnRequest, daysLeft, newLedger, type TurnContext } from './turn.js';
import type { World } from './world.js';

const config = parseExperiment({});
const ok = (value: unknown): ProviderAnswer => ({ ok: true, value, raw: JSON.stringify(value), cached: false, usage: null });

function context(events: SimEvent[] = [], people = [persona(0), persona(1), persona(2), persona(3, { age: 16 })]): TurnContext {
  const world = worldOf(people, [[0, 1]], [{ author: 1 }, { author: 2 }, { author: 2 }], events);
  return { config, seed: 5, stage: 'main', round: 12, feed: feedContext(world), likelyVoters: 0 };
}

describe('turn requests', () => {
  it('tell adults the days left and ask for a likelihood, showing their last answer', () => {
    const ctx = context([makeEvent('VotingIntentionStated', { likelihood: 3 }, 5, 0)]);
    const request = buildTurnRequest(ctx, 0);
    expect(request.election).toEqual({ daysLeft: 18 });
    expect(request.previousLikelihood).toBe(3);
    expect(request.key).toEqual({ seed: 5, agentId: 0, round: 12, purpose: 'turn' });
    expect(request.feed).toHaveLength(3);
  });

  it('never ask users under 18 about voting nor show them a treatment, even when assigned', () => {
    const ctx = context([makeEvent('TreatmentAssigned', { period: 2, probability: 1, message: 'informational', treatedIds: [0, 3] }, 11)]);
    const minor = buildTurnRequest(ctx, 3);
    expect(minor.election).toBeNull();
    expect(minor.treatment).toBeNull();
    expect(minor.previousLikelihood).toBeNull();
    expect(buildTurnRequest(ctx, 0).treatment?.kind).toBe('informational');
  });

  it('count days to the election: 30 - round', () => {
    expect([-15, 0, 29, 30].map((r) => daysLeft(config, r))).toEqual([45, 30, 1, 0]);
  });
});

describe('applying a turn', () => {
  it('records likes, replies and follows by post number, then posts seen, likelihood and schedule', () => {
    const ctx = context();
    const request = buildTurnRequest(ctx, 0);
    const ledger = newLedger(ctx.feed.world);
    const [first, second] = request.feed;
    const events = applyTurn(ctx, request, ok({
      engagement: [
        { post_number: 2, engage: 'reply', reply_text: 'x'.repeat(200), follow_action: 'follow' },
        { post_number: 1, engage: 'like', follow_action: 'no_change' },
      ],
      voting_likelihood: 4,
      next_activity_time: 2,
    }), ledger);
    const types = events.map((e) => e.type);
    expect(types).toEqual(['PostLiked', 'PostReplied', ...(second.authorFollowed ? [] : ['UserFollowed']), 'PostsSeen', 'VotingIntentionStated', 'NextActivityScheduled']);
    expect(events[0].data).toEqual({ postId: first.postId });
    expect((events[1].data as { text: string }).text).toHaveLength(140);
    const seen = events.find((e) => e.type === 'PostsSeen')!.data as { posts: Array<[number, number]> };
    // the replied post is marked seen with the reply just added
    expect(seen.posts).toContainEqual([second.postId, 1]);
    expect(events.find((e) => e.type === 'VotingIntentionStated')!.data).toEqual({ likelihood: 4 });
    expect(events.every((e) => e.meta.agentId === 0 && e.meta.round === 12)).toBe(true);
  });

  it('never likes a post twice nor follows oneself or an already followed user', () => {
    const ctx = context([makeEvent('PostLiked', { postId: 0 }, 3, 0)]);
    const request = buildTurnRequest(ctx, 0);
    const n = request.feed.find((f) => f.postId === 0)!.number;
    const events = applyTurn(ctx, request, ok({ engagement: [{ post_number: n, engage: 'like', follow_action: 'follow' }], voting_likelihood: 2, next_activity_time: 1 }), newLedger(ctx.feed.world));
    expect(events.some((e) => e.type === 'PostLiked' || e.type === 'UserFollowed')).toBe(false);
  });

  it('falls back explicitly: unusable answer keeps the last likelihood and records why', () => {
    const ctx = context([makeEvent('VotingIntentionStated', { likelihood: 1 }, 5, 0)]);
    const request = buildTurnRequest(ctx, 0);
    const events = applyTurn(ctx, request, { ok: false, reason: 'unparsable JSON after 2 retries', raw: '{oops', cached: false, usage: null }, newLedger(ctx.feed.world));
    expect(events[0]).toMatchObject({ type: 'DecisionFellBack', data: { field: 'answer', reason: 'unparsable JSON after 2 retries', raw: '{oops' } });
    expect(events.find((e) => e.type === 'VotingIntentionStated')!.data).toEqual({ likelihood: 1 });
    expect(events.some((e) => e.type === 'PostLiked')).toBe(false);
  });

  it('falls back per field: likelihood out of range, bad post numbers, next activity out of range', () => {
    const ctx = context();
    const request = buildTurnRequest(ctx, 0);
    const events = applyTurn(ctx, request, ok({ engagement: [{ post_number: 9, engage: 'like', follow_action: 'no_change' }], voting_likelihood: 7, next_activity_time: 40 }), newLedger(ctx.feed.world));
    const fields = events.filter((e) => e.type === 'DecisionFellBack').map((e) => (e.data as { field: string }).field);
    expect(fields).toEqual(['engagement.post_number', 'voting_likelihood', 'next_activity_time']);
    expect(events.find((e) => e.type === 'VotingIntentionStated')!.data).toEqual({ likelihood: 2 });
    const next = events.find((e) => e.type === 'NextActivityScheduled')!.data as { nextRound: number; proposed: number | null };
    expect(next.proposed).toBeNull();
    expect(next.nextRound).toBeGreaterThanOrEqual(12 + 1);
    expect(next.nextRound).toBeLessThanOrEqual(12 + 5 + 6);
  });

  it('gives new posts consecutive ids in application order, topic general and an interest subtopic', () => {
    const ctx = context();
    const ledger = newLedger(ctx.feed.world);
    const request = { ...buildTurnRequest(ctx, 0), invitePost: { topic: 'Politics', subtopic: 'the upcoming election', daysLeft: 18 } };
    const events = applyTurn(ctx, request, ok({ engagement: [], generated_content: 'Vote!', voting_likelihood: 3, next_activity_time: 3 }), ledger);
    expect(events.find((e) => e.type === 'PostCreated')!.data).toMatchObject({ postId: 3, authorId: 0, topic: 'general', text: 'Vote!' });
    expect(['Politics', 'Technology']).toContain((events.find((e) => e.type === 'PostCreated')!.data as { subtopic: string }).subtopic);
    expect(ledger.nextPostId).toBe(4);
  });
});

describe('election day', () => {
  const world = worldOf([persona(0, { age: 40 }), persona(1, { age: 17 })], [], [], [makeEvent('VotingIntentionStated', { likelihood: 4 }, 29, 0)]);
  it('asks adults with their latest likelihood; minors are not asked and did not vote', () => {
    expect(buildVoteRequest(world, 0, config, 1, 30)).toMatchObject({ purpose: 'vote', lastLikelihood: 4 });
    expect(buildVoteRequest(world, 1, config, 1, 30)).toBeNull();
    expect(applyVote(null, 1, null, 30, 3)).toEqual([makeEvent('VoteCast', { voted: false }, 30, 1)]);
  });
  it('records the answer, or falls back to "voted if a likely voter" with the reason', () => {
    const request = buildVoteRequest(world, 0, config, 1, 30);
    expect(applyVote(request, 0, ok({ voted: 0 }), 30, 3)).toEqual([makeEvent('VoteCast', { voted: false }, 30, 0)]);
    const fallback = applyVote(request, 0, ok({ voted: 'yes' }), 30, 3);
    expect(fallback.map((e) => e.type)).toEqual(['DecisionFellBack', 'VoteCast']);
    expect(fallback[1].data).toEqual({ voted: true });
  });
});

describe('a turn, given/when/then', () => {
  // Users 0 and 1 (1 posted the only post, id 0), 2 a minor; nobody follows anybody yet.
  const population = [
    makeEvent('PopulationLoaded', { source: 'test', agents: [persona(0), persona(1), persona(2, { age: 16 })], follows: [] }, -16),
    makeEvent('PostCreated', { postId: 0, authorId: 1, topic: 'Politics', subtopic: 'Politics', text: 'post 0' }, -16, 1),
  ];
  const turnOf = (agentId: number, answer: ProviderAnswer) => (world: World) => {
    const ctx: TurnContext = { config, seed: 5, stage: 'main', round: 12, feed: feedContext(world), likelyVoters: 0 };
    const request = buildTurnRequest(ctx, agentId);
    // The only post is post number 1 of every feed.
    expect(request.feed.map((f) => f.postId)).toEqual([0]);
    return applyTurn(ctx, request, answer, newLedger(world));
  };

  it('given an earlier likelihood, when the agent likes the post, follows its author and says 3, then those facts in order', () => {
    const after = given([...population, makeEvent('VotingIntentionStated', { likelihood: 1 }, 5, 0)])
      .when(turnOf(0, ok({ engagement: [{ post_number: 1, engage: 'like', follow_action: 'follow' }], voting_likelihood: 3, next_activity_time: 2 })))
      .then([
        { type: 'PostLiked', data: { postId: 0 }, meta: { round: 12, agentId: 0 } },
        { type: 'UserFollowed', data: { targetId: 1 } },
        { type: 'PostsSeen', data: { posts: [[0, 0]] } },
        { type: 'VotingIntentionStated', data: { likelihood: 3 } },
        { type: 'NextActivityScheduled', data: expect.objectContaining({ proposed: 2 }) },
      ]);
    expect(after.agents[0].following).toEqual([1]);
    expect(after.agents[0].likelihood).toBe(3);
    expect(after.posts[0].likes).toBe(1);
  });

  it('given the post liked and its author followed, when the agent likes and follows again, then neither is recorded twice', () => {
    given([...population, makeEvent('PostLiked', { postId: 0 }, 6, 0), makeEvent('UserFollowed', { targetId: 1 }, 6, 0)])
      .when(turnOf(0, ok({ engagement: [{ post_number: 1, engage: 'like', follow_action: 'follow' }], voting_likelihood: 2, next_activity_time: 1 })))
      .then([{ type: 'PostsSeen' }, { type: 'VotingIntentionStated', data: { likelihood: 2 } }, { type: 'NextActivityScheduled' }]);
  });

  it('given a reply by another user, when the agent replies too, then the post is seen with both replies', () => {
    given([...population, makeEvent('PostReplied', { postId: 0, text: 'first' }, 6, 1)])
      .when(turnOf(0, ok({ engagement: [{ post_number: 1, engage: 'reply', reply_text: ' me too ', follow_action: 'unfollow' }], voting_likelihood: 4, next_activity_time: 5 })))
      .then([{ type: 'PostReplied', data: { postId: 0, text: 'me too' } }, { type: 'PostsSeen', data: { posts: [[0, 2]] } }, { type: 'VotingIntentionStated' }, { type: 'NextActivityScheduled' }]);
  });

  it('given a minor, when it answers with a likelihood, then no intention is recorded', () => {
    given(population)
      .when(turnOf(2, ok({ engagement: [], voting_likelihood: 4, next_activity_time: 3 })))
      .then([{ type: 'NextActivityScheduled', data: expect.objectContaining({ proposed: 3 }) }]);
  });

  it('given an earlier likelihood, when the answer is unusable, then the fallback is recorded and the likelihood kept', () => {
    given([...population, makeEvent('VotingIntentionStated', { likelihood: 1 }, 5, 0)])
      .when(turnOf(0, { ok: false, reason: 'not JSON', raw: '{', cached: false, usage: null }))
      .then([
        { type: 'DecisionFellBack', data: { purpose: 'turn', field: 'answer', reason: 'not JSON', raw: '{' } },
        { type: 'VotingIntentionStated', data: { likelihood: 1 } },
        { type: 'NextActivityScheduled', data: expect.objectContaining({ proposed: null }) },
      ]);
  });
});

describe('election day, given/when/then', () => {
  const population = makeEvent('PopulationLoaded', { source: 'test', agents: [persona(0, { age: 40 }), persona(1, { age: 17 }), persona(2, { age: 50 })], follows: [] }, -16);
  const voteOf = (agentId: number, answer: ProviderAnswer | null) => (world: World) => applyVote(buildVoteRequest(world, agentId, config, 1, 30), agentId, answer, 30, config.messages.likely_voter_threshold);

  it('given an adult, when it answers voted 1, then it voted', () => {
    const after = given([population]).when(voteOf(0, ok({ voted: 1 }))).then([{ type: 'VoteCast', data: { voted: true }, meta: { round: 30, agentId: 0 } }]);
    expect(after.agents[0].voted).toBe(true);
  });

  it('given a likely voter (last said 3), when the answer is unusable, then the fallback says why and it voted', () => {
    given([population, makeEvent('VotingIntentionStated', { likelihood: 3 }, 29, 0)])
      .when(voteOf(0, ok({ voted: 'yes' })))
      .then([
        { type: 'DecisionFellBack', data: { purpose: 'vote', field: 'voted', reason: 'answer is not {"voted": 0 or 1}: voted = 1 from the last likelihood', raw: '{"voted":"yes"}' } },
        { type: 'VoteCast', data: { voted: true } },
      ]);
  });

  it('given an adult who last said 2 (not a likely voter), when no answer came, then it did not vote', () => {
    given([population, makeEvent('VotingIntentionStated', { likelihood: 2 }, 29, 2)])
      .when(voteOf(2, { ok: false, reason: 'timeout', raw: null, cached: false, usage: null }))
      .then([{ type: 'DecisionFellBack', data: { purpose: 'vote', field: 'voted', reason: 'timeout: voted = 0 from the last likelihood', raw: null } }, { type: 'VoteCast', data: { voted: false } }]);
  });

  it('given a minor, when election day comes, then it did not vote and was not asked', () => {
    given([population]).when(voteOf(1, null)).then([{ type: 'VoteCast', data: { voted: false } }]);
  });
});
