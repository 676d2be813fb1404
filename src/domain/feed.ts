import type { ExperimentConfig } from './config.js';
import type { FeedItem } from './decision.js';
import type { Rng } from './rng.js';
import { forEachSeen, seenReplies } from './seen.js';
import { engagementOf, sortedIncludes, type Post, type World } from './world.js';

/**
 * Feed building (docs/protocol.md, "One active turn"), from the state at the start of the round.
 *
 * Candidates are posts by others that the user has not seen, or that gained replies since it last
 * saw them (own posts are never served back to their author). Groups are drawn by rejection from
 * indexes (posts by subtopic, by author), so a turn costs time in the feed length and the user's
 * history, not in the number of posts; when rejection keeps failing it falls back to an explicit
 * scan, which gives the same uniform distribution.
 */
export interface FeedContext {
  world: World;
  /** Post ids by engagement (likes + replies) descending, newest first on ties: once per round. */
  trending: number[];
  /** Every post id (ids are indexes), the pool for random picks. */
  allIds: number[];
}

export function feedContext(world: World): FeedContext {
  return { world, trending: trendingOrder(world.posts), allIds: world.posts.map((p) => p.id) };
}

function trendingOrder(posts: readonly Post[]): number[] {
  return posts
    .map((p) => p.id)
    .sort((a, b) => engagementOf(posts[b]) - engagementOf(posts[a]) || b - a);
}

export function isCandidate(world: World, agentId: number, post: Post): boolean {
  if (post.authorId === agentId) return false;
  const replies = seenReplies(world.agents[agentId].seen, post.id);
  return replies === undefined || post.replies.length > replies;
}

/** Number of candidate posts, from the user's own history rather than a scan of every post. */
export function candidateCount(world: World, agentId: number): number {
  const own = world.postsByAuthor[agentId]?.length ?? 0;
  let stale = 0;
  forEachSeen(world.agents[agentId].seen, (postId, replies) => {
    const post = world.posts[postId];
    if (post.authorId !== agentId && post.replies.length <= replies) stale += 1;
  });
  return world.posts.length - own - stale;
}

export interface FeedMix {
  length: number;
  interest: number;
  followed: number;
  trending: number;
}

/** How many posts of each kind: floor(share x L) each, the rest random. */
export function feedMix(config: ExperimentConfig['feed'], candidates: number): FeedMix {
  const length = Math.min(config.length, candidates);
  return {
    length,
    interest: Math.floor(config.interest_share * length),
    followed: Math.floor(config.followed_share * length),
    trending: Math.floor(config.trending_share * length),
  };
}

/** The post ids of the user's feed for this round, unranked, in the order they were drawn. */
export function selectFeed(ctx: FeedContext, agentId: number, config: ExperimentConfig['feed'], rng: Rng): number[] {
  const { world } = ctx;
  const mix = feedMix(config, candidateCount(world, agentId));
  if (mix.length === 0) return [];
  const chosen: number[] = [];
  // A feed is a handful of posts: membership by scanning `chosen` (no Set per turn).
  const accept = (id: number) => !chosen.includes(id) && isCandidate(world, agentId, world.posts[id]);
  const take = (ids: number[]) => {
    for (const id of ids) {
      chosen.push(id);
    }
  };

  const interests = [...new Set(world.personas[agentId].interests)];
  take(drawFrom(interests.map((s) => world.postsBySubtopic[s] ?? []), mix.interest, accept, rng));

  const followedPools = world.agents[agentId].following.map((f) => world.postsByAuthor[f] ?? []);
  take(drawFrom(followedPools, mix.followed, accept, rng));

  if (mix.trending > 0) {
    const trending: number[] = [];
    for (const id of ctx.trending) {
      if (trending.length >= mix.trending) break;
      if (accept(id)) trending.push(id);
    }
    take(trending);
  }

  const rest = mix.length - chosen.length;
  if (rest > 0) take(drawFrom([ctx.allIds], rest, accept, rng));
  return chosen;
}

/** Ranks feed posts: followed author, engagement by followed users, then total engagement. */
export function rankFeed(
  world: World,
  agentId: number,
  postIds: readonly number[],
  weights: ExperimentConfig['ranking'],
  byFollowed: (postId: number) => FollowedEngagement = (id) => followedEngagement(world, id, world.agents[agentId].following),
): number[] {
  const following = world.agents[agentId].following;
  const score = (id: number) => {
    const post = world.posts[id];
    const engaged = byFollowed(id);
    return (
      (sortedIncludes(following, post.authorId) ? weights.followed_author : 0) +
      weights.per_followed_engagement * (engaged.likes + engaged.replies) +
      weights.per_engagement * engagementOf(post)
    );
  };
  // Highest score first, then highest id: a total order (ids are distinct), so this insertion sort
  // (a feed is a handful of posts; Array.prototype.sort allocates) gives what any sort gives.
  const ids = postIds.slice();
  const scores = ids.map(score);
  for (let i = 1; i < ids.length; i++) {
    const id = ids[i];
    const s = scores[i];
    let j = i - 1;
    for (; j >= 0 && (s > scores[j] || (s === scores[j] && id > ids[j])); j--) {
      ids[j + 1] = ids[j];
      scores[j + 1] = scores[j];
    }
    ids[j + 1] = id;
    scores[j + 1] = s;
  }
  return ids;
}

export interface FollowedEngagement {
  likes: number;
  replies: number;
}

/** Likes and replies on a post by users this agent follows: O(following), whatever the post's popularity. */
function followedEngagement(world: World, postId: number, following: readonly number[]): FollowedEngagement {
  let likes = 0;
  let replies = 0;
  for (const f of following) {
    const other = world.agents[f];
    if (!other) continue;
    if (sortedIncludes(other.liked, postId)) likes += 1;
    if (sortedIncludes(other.replied, postId)) replies += 1;
  }
  return { likes, replies };
}

/** The ranked feed as the agent sees it. */
export function buildFeed(ctx: FeedContext, agentId: number, config: ExperimentConfig, rng: Rng): FeedItem[] {
  const { world } = ctx;
  const following = world.agents[agentId].following;
  // Counted once per post: ranking and the feed item both need it, and it costs O(following).
  const engaged = new Map<number, FollowedEngagement>();
  for (const id of selectFeed(ctx, agentId, config.feed, rng)) engaged.set(id, followedEngagement(world, id, following));
  const ranked = rankFeed(world, agentId, [...engaged.keys()], config.ranking, (id) => engaged.get(id)!);
  return ranked.map((id, index) => {
    const post = world.posts[id];
    const byFollowed = engaged.get(id)!;
    const latest = post.replies[post.replies.length - 1];
    return {
      number: index + 1,
      postId: id,
      authorId: post.authorId,
      authorProfile: world.personas[post.authorId]?.publicProfile ?? '',
      authorFollowed: sortedIncludes(following, post.authorId),
      topic: post.topic,
      subtopic: post.subtopic,
      text: post.text,
      likesByFollowed: byFollowed.likes,
      repliesByFollowed: byFollowed.replies,
      totalLikes: post.likes,
      totalReplies: post.replies.length,
      latestReply: latest ? latest.text.slice(0, config.content.latest_reply_chars) : null,
    };
  });
}

/**
 * Draws up to k distinct accepted ids, uniformly, from the union of disjoint pools. Rejection first
 * (cheap when most ids are acceptable), then an explicit scan for whatever is still missing.
 */
export function drawFrom(pools: ReadonlyArray<ArrayLike<number>>, k: number, accept: (id: number) => boolean, rng: Rng): number[] {
  if (k <= 0) return [];
  const total = pools.reduce((n, p) => n + p.length, 0);
  if (total === 0) return [];
  const out: number[] = [];
  // k is a feed's length at most: membership by scanning `out` (no Set per draw).
  const ok = (id: number) => !out.includes(id) && accept(id);
  const maxAttempts = 8 * k + 16;
  for (let attempt = 0; attempt < maxAttempts && out.length < k; attempt++) {
    const id = idAt(pools, rng.int(0, total - 1));
    if (ok(id)) {
      out.push(id);
    }
  }
  if (out.length < k) {
    const remaining: number[] = [];
    for (const pool of pools) for (let i = 0; i < pool.length; i++) if (ok(pool[i])) remaining.push(pool[i]);
    for (const id of rng.sample(remaining, k - out.length)) out.push(id);
  }
  return out;
}

function idAt(pools: ReadonlyArray<ArrayLike<number>>, index: number): number {
  let i = index;
  for (const pool of pools) {
    if (i < pool.length) return pool[i];
    i -= pool.length;
  }
  throw new Error('idAt: index out of range');
}
