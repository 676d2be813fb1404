import { describe, expect, it } from 'vitest';
import { persona, worldOf } from '../../test/support/world.js';
import { evolve, evolveAll } from './evolve.js';
import { makeEvent, type SimEvent } from './events.js';
import { EMPTY, seenEntries, seenReplies } from './seen.js';
import { turnSummary } from './world.js';

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

const base = () => worldOf([persona(0), persona(1), persona(2)], [[0, 1]], [{ author: 1 }, { author: 2 }]);

describe('evolve', () => {
  const round: SimEvent[] = [
    makeEvent('FeedServed', { postIds: [0, 1] }, 1, 0),
    makeEvent('PostLiked', { postId: 0 }, 1, 0),
    makeEvent('PostReplied', { postId: 1, text: 'hi' }, 1, 0),
    makeEvent('UserFollowed', { targetId: 2 }, 1, 0),
    makeEvent('UserUnfollowed', { targetId: 1 }, 1, 0),
    makeEvent('PostCreated', { postId: 2, authorId: 0, topic: 'general', subtopic: 'Politics', text: 'new' }, 1, 0),
    makeEvent('PostsSeen', { posts: [[0, 0], [1, 1]] }, 1, 0),
    makeEvent('VotingIntentionStated', { likelihood: 3 }, 1, 0),
    makeEvent('NextActivityScheduled', { nextRound: 4, proposed: 2 }, 1, 0),
    makeEvent('RoundCompleted', { activeAgents: 1, fellBack: 0 }, 1),
  ];

  it('applies a round: counts, graph, posts, seen, likelihood, schedule and the turn summary', () => {
    const w = evolveAll(base(), round);
    expect(w.posts[0].likes).toBe(1);
    expect(w.posts[1].replies).toEqual([{ agentId: 0, text: 'hi', round: 1 }]);
    expect(w.posts[2]).toMatchObject({ authorId: 0, text: 'new', round: 1 });
    expect(w.postsByAuthor[0]).toEqual([2]);
    expect(w.agents[0]).toMatchObject({ following: [2], likelihood: 3, nextActivity: 4 });
    expect(seenEntries(w.agents[0].seen)).toEqual([[0, 0], [1, 1]]);
    expect(w.agents[0].liked).toEqual([0]);
    expect(w.agents[0].replied).toEqual([1]);
    expect(w.agents[0].lastTurn).toEqual({ round: 1, liked: [0], replied: [1], replies: ['hi'], posted: 2 });
    expect(turnSummary(w, w.agents[0].lastTurn)).toEqual({ round: 1, liked: [{ postId: 0, text: 'post 0' }], replied: [{ postId: 1, text: 'post 1', reply: 'hi' }], posted: 'new' });
    expect(w.round).toBe(1);
  });

  it('never changes the state it started from (the old state is deeply frozen)', () => {
    const before = base();
    const snapshot = structuredClone(before);
    deepFreeze(before);
    expect(() => evolveAll(before, round)).not.toThrow();
    expect(before).toEqual(snapshot);
    expect(before.agents[0].seen).toEqual([]);
  });

  it('gives the same state one event at a time as in one batch', () => {
    const oneByOne = round.reduce((w, e) => evolve(w, e), base());
    expect(oneByOne).toEqual(evolveAll(base(), round));
  });

  it('refuses a post id out of sequence', () => {
    expect(() => evolve(base(), makeEvent('PostCreated', { postId: 7, authorId: 0, topic: 't', subtopic: 's', text: 'x' }, 1, 0))).toThrow(/out of sequence/);
  });
});

describe("an agent's lists (seen, liked, replied, following)", () => {
  it('are changed by making new lists: the earlier world keeps its own, and unchanged lists stay shared', () => {
    const first = deepFreeze(evolveAll(base(), [makeEvent('PostsSeen', { posts: [[1, 0]] }, 1, 0), makeEvent('PostLiked', { postId: 1 }, 1, 0)]));
    const second = evolveAll(first, [makeEvent('PostsSeen', { posts: [[0, 2], [1, 3]] }, 2, 0), makeEvent('NextActivityScheduled', { nextRound: 5, proposed: null }, 2, 0)]);
    expect(seenEntries(first.agents[0].seen)).toEqual([[1, 0]]);
    expect(seenEntries(second.agents[0].seen)).toEqual([[0, 2], [1, 3]]);
    // Not changed by the second batch: the very same lists.
    expect(second.agents[0].liked).toBe(first.agents[0].liked);
    expect(second.agents[0].following).toBe(first.agents[0].following);
    expect(second.agents[1].seen).toBe(EMPTY);
  });

  it('record seen posts by id whatever the order they come in, the last count for a post winning', () => {
    const w = evolveAll(base(), [makeEvent('PostsSeen', { posts: [[9, 1], [3, 0], [9, 4], [0, 7]] }, 1, 0), makeEvent('PostsSeen', { posts: [[3, 2]] }, 1, 0)]);
    expect(seenEntries(w.agents[0].seen)).toEqual([[0, 7], [3, 2], [9, 4]]);
    expect(seenReplies(w.agents[0].seen, 9)).toBe(4);
    expect(seenReplies(w.agents[0].seen, 4)).toBeUndefined();
    expect(seenReplies(w.agents[0].seen, 10)).toBeUndefined();
  });

  it('keep large post ids and reply counts exact, and refuse a count the packing cannot hold', () => {
    const big = 2 ** 31 - 1;
    const w = evolveAll(base(), [makeEvent('PostsSeen', { posts: [[big, 4_194_303], [big - 1, 0]] }, 1, 0)]);
    expect(seenEntries(w.agents[0].seen)).toEqual([[big - 1, 0], [big, 4_194_303]]);
    expect(() => evolveAll(base(), [makeEvent('PostsSeen', { posts: [[1, 4_194_304]] }, 1, 0)])).toThrow(/reply count 4194304 out of range/);
  });

  it('follow and unfollow: ascending, without duplicates', () => {
    const w = evolveAll(base(), [
      makeEvent('UserFollowed', { targetId: 2 }, 1, 1),
      makeEvent('UserFollowed', { targetId: 0 }, 1, 1),
      makeEvent('UserFollowed', { targetId: 2 }, 1, 1),
      makeEvent('UserUnfollowed', { targetId: 1 }, 1, 0),
      makeEvent('UserUnfollowed', { targetId: 2 }, 1, 0),
    ]);
    expect(w.agents[1].following).toEqual([0, 2]);
    expect(w.agents[0].following).toEqual([]);
  });
});
