import { describe, expect, it } from 'vitest';
import { persona, worldOf } from '../../test/support/world.js';
import { makeEvent, type SimEvent } from './events.js';
import { parseExperiment } from './config.js';
import type { ProviderAnswer } from './decision.js';
import { applyVote, buildVoteRequest } from './election.js';
import { feedContext } from './feed.js';
import { applyTurn, buildTurnRequest, daysLeft, newLedger, type TurnContext } from './turn.js';

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
