import { describe, expect, it } from 'vitest';
import { persona, worldOf } from '../../test/support/world.js';
import { makeEvent } from './events.js';
import { parseExperiment } from './config.js';
import { buildFeed, candidateCount, drawFrom, feedContext, feedMix, isCandidate, rankFeed, selectFeed } from './feed.js';
import { fromPrng, rng } from './rng.js';

const config = parseExperiment({});
const feedConfig = (overrides: Partial<typeof config.feed>) => ({ ...config.feed, ...overrides });

describe('feed mix', () => {
  it('takes floor(share x L) of each kind, the rest random', () => {
    expect(feedMix(config.feed, 100)).toEqual({ length: 4, interest: 2, followed: 0, trending: 0 });
    expect(feedMix(feedConfig({ length: 10 }), 100)).toEqual({ length: 10, interest: 6, followed: 2, trending: 1 });
  });
  it('caps the length by the candidates', () => {
    expect(feedMix(feedConfig({ length: 10 }), 3)).toEqual({ length: 3, interest: 1, followed: 0, trending: 0 });
    expect(feedMix(config.feed, 0).length).toBe(0);
  });
});

describe('candidates', () => {
  const people = [persona(0), persona(1), persona(2)];
  it('are posts by others, unseen or with replies since last seen', () => {
    const seen = [makeEvent('PostsSeen', { posts: [[1, 0], [2, 0]] }, -15, 0)];
    // post 0 by agent 0 itself; post 1 seen, unchanged; post 2 seen, then replied to; post 3 unseen
    const world = worldOf(people, [], [{ author: 0 }, { author: 1 }, { author: 1 }, { author: 2 }], [
      ...seen,
      makeEvent('PostReplied', { postId: 2, text: 'new' }, -14, 2),
    ]);
    expect(world.posts.map((p) => isCandidate(world, 0, p))).toEqual([false, false, true, true]);
    expect(candidateCount(world, 0)).toBe(2);
  });
});

describe('feed selection', () => {
  const people = [persona(0, { interests: ['Sports', 'Music'] }), persona(1), persona(2), persona(3)];
  const posts = [
    { author: 1, subtopic: 'Technology' },
    { author: 2, subtopic: 'Sports' },
    { author: 3, subtopic: 'Technology', likes: [1, 2] },
    { author: 1, subtopic: 'Sports' },
    { author: 2, subtopic: 'Music' },
    { author: 3, subtopic: 'Technology', likes: [1, 2, 3], replies: [1] },
    { author: 3, subtopic: 'Technology' },
  ];

  it('fills the interest share only from posts on the user interests', () => {
    const world = worldOf(people, [], posts);
    for (let seed = 0; seed < 20; seed++) {
      const feed = selectFeed(feedContext(world), 0, feedConfig({ length: 3, interest_share: 1, followed_share: 0, trending_share: 0 }), rng(seed, 't', 0, 0, 'feed'));
      expect(feed.map((id) => world.posts[id].subtopic).sort()).toEqual(['Music', 'Sports', 'Sports']);
    }
  });

  it('fills the followed share only from followed authors', () => {
    const world = worldOf(people, [[0, 3]], posts);
    const feed = selectFeed(feedContext(world), 0, feedConfig({ length: 3, interest_share: 0, followed_share: 1, trending_share: 0 }), rng(1, 't', 0, 0, 'feed'));
    expect(feed.map((id) => world.posts[id].authorId)).toEqual([3, 3, 3]);
  });

  it('takes the most engaged candidates for the trending share, in order', () => {
    const world = worldOf(people, [], posts);
    const feed = selectFeed(feedContext(world), 0, feedConfig({ length: 2, interest_share: 0, followed_share: 0, trending_share: 1 }), rng(1, 't', 0, 0, 'feed'));
    expect(feed).toEqual([5, 2]);
  });

  it('never serves more than the candidates, nor a post twice', () => {
    const world = worldOf(people, [], posts);
    const feed = selectFeed(feedContext(world), 0, feedConfig({ length: 50 }), rng(1, 't', 0, 0, 'feed'));
    expect([...feed].sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });
});

describe('ranking', () => {
  it('scores 100 for a followed author, 10 per like or reply by a followed user, plus total engagement', () => {
    const people = [persona(0), persona(1), persona(2), persona(3)];
    // agent 0 follows 1 and 2.
    const world = worldOf(people, [[0, 1], [0, 2]], [
      { author: 3, likes: [3] }, // 0 + 0 + 1 = 1
      { author: 1 }, // 100
      { author: 3, likes: [1, 3], replies: [2] }, // 10 x 2 + 3 = 23
      { author: 3, likes: [3], replies: [3] }, // 2
      { author: 3, replies: [1] }, // 10 + 1 = 11
    ]);
    expect(rankFeed(world, 0, [0, 1, 2, 3, 4], config.ranking)).toEqual([1, 2, 4, 3, 0]);
  });

  it('puts the newer post first on equal scores', () => {
    const world = worldOf([persona(0), persona(1)], [], [{ author: 1 }, { author: 1 }, { author: 1 }]);
    expect(rankFeed(world, 0, [0, 2, 1], config.ranking)).toEqual([2, 1, 0]);
  });

  it('numbers the ranked feed from 1 and reports engagement by followed users', () => {
    const world = worldOf([persona(0), persona(1), persona(2)], [[0, 1]], [{ author: 2, likes: [1], replies: [1, 2] }]);
    const [item] = buildFeed(feedContext(world), 0, config, rng(1, 't', 0, 0, 'feed'));
    expect(item).toMatchObject({ number: 1, postId: 0, authorFollowed: false, likesByFollowed: 1, repliesByFollowed: 1, totalLikes: 1, totalReplies: 2, latestReply: 'reply by 2' });
  });
});

describe('drawFrom', () => {
  it('finds the only acceptable id by scanning when rejection keeps failing', () => {
    const pool = Array.from({ length: 1000 }, (_, i) => i);
    expect(drawFrom([pool], 1, (id) => id === 777, rng(1, 't', 0, 0, 'x'))).toEqual([777]);
  });
  it('draws from several pools as one', () => {
    const r = fromPrng(() => 0.99);
    expect(drawFrom([[1, 2], [3, 4]], 1, () => true, r)).toEqual([4]);
  });
});
