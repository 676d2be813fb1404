import { describe, expect, it } from 'vitest';
import { persona, worldOf } from '../../test/support/world.js';
import { evolve, evolveAll } from './evolve.js';
import { makeEvent, type SimEvent } from './events.js';

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
    expect(w.agents[0].seen).toEqual(new Map([[0, 0], [1, 1]]));
    expect(w.agents[0].liked).toEqual(new Set([0]));
    expect(w.agents[0].replied).toEqual(new Set([1]));
    expect(w.agents[0].lastTurn).toEqual({ round: 1, liked: [{ postId: 0, text: 'post 0' }], replied: [{ postId: 1, text: 'post 1', reply: 'hi' }], posted: 'new' });
    expect(w.round).toBe(1);
  });

  it('never changes the state it started from (the old state is deeply frozen)', () => {
    const before = base();
    const snapshot = structuredClone(before);
    deepFreeze(before);
    expect(() => evolveAll(before, round)).not.toThrow();
    // Maps and Sets cannot be frozen: compare with the copy taken before.
    expect(before).toEqual(snapshot);
    expect(before.agents[0].seen.size).toBe(0);
  });

  it('gives the same state one event at a time as in one batch', () => {
    const oneByOne = round.reduce((w, e) => evolve(w, e), base());
    expect(oneByOne).toEqual(evolveAll(base(), round));
  });

  it('refuses a post id out of sequence', () => {
    expect(() => evolve(base(), makeEvent('PostCreated', { postId: 7, authorId: 0, topic: 't', subtopic: 's', text: 'x' }, 1, 0))).toThrow(/out of sequence/);
  });
});
