import type { TurnSummary } from './decision.js';
import type { Persona } from './persona.js';
import type { PostIdSet, Seen } from './seen.js';

/**
 * The simulated world at a moment: folded from events by `evolve` (copy-on-write: a folded world
 * is never changed afterwards), read by the pure domain functions.
 */
export interface Post {
  id: number;
  authorId: number;
  topic: string;
  subtopic: string;
  text: string;
  round: number;
  /** Number of likes (who liked what is kept per agent, so feeds never scan a post's likers). */
  likes: number;
  replies: Array<{ agentId: number; text: string; round: number }>;
}

export interface AgentState {
  nextActivity: number;
  /** The last likelihood stated (0-4), or null if never asked or never answered. */
  likelihood: number | null;
  /** The agent's previous active turn, shown to it in its next turn (as a TurnSummary: turnSummary). */
  lastTurn: LastTurn | null;
  /**
   * Post id -> reply count when the agent last saw it, packed (./seen.ts: read it with seenReplies
   * and forEachSeen). Compact arrays, not Maps and Sets: a million agents' Maps were most of the
   * world's memory (docs/performance.md, "The million").
   */
  seen: Seen;
  /** Posts this agent liked / replied to, ascending (one like and one reply per post at most). */
  liked: PostIdSet;
  replied: PostIdSet;
  /** Users this agent follows, ascending. */
  following: readonly number[];
  voted: boolean | null;
}

/**
 * An agent's last active turn, by post ids: the texts are the posts' own, looked up when the turn is
 * shown (turnSummary), so the world holds one small record per agent, not a copy of each text's
 * reference in an object of its own.
 */
export interface LastTurn {
  round: number;
  /** Posts liked, in the order liked. */
  liked: readonly number[];
  /** Posts replied to, in the order replied, and the replies (the same index in both). */
  replied: readonly number[];
  replies: readonly string[];
  /** The post written, or null. */
  posted: number | null;
}

/** The turn as the agent is shown it (the texts of the posts it liked, replied to and wrote). */
export function turnSummary(world: World, turn: LastTurn | null): TurnSummary | null {
  if (!turn) return null;
  return {
    round: turn.round,
    liked: turn.liked.map((postId) => ({ postId, text: world.posts[postId].text })),
    replied: turn.replied.map((postId, i) => ({ postId, text: world.posts[postId].text, reply: turn.replies[i] })),
    posted: turn.posted === null ? null : world.posts[turn.posted].text,
  };
}

export interface World {
  /** Static personas by id (never modified after PopulationLoaded). */
  personas: Record<number, Persona>;
  /** All agent ids, ascending. */
  agentIds: number[];
  agents: Record<number, AgentState>;
  /** Posts by id; ids are 0, 1, 2... so a post's id is its index. */
  posts: Post[];
  postsBySubtopic: Record<string, number[]>;
  postsByAuthor: Record<number, number[]>;
  /** Treated agents in the current treatment period, and that period's message. */
  treated: Record<number, true>;
  treatmentMessage: 'none' | 'informational' | 'social';
  treatmentPeriod: number;
  /** The last round completed (rounds are <= 0 in the warmup). */
  round: number;
  stage: string;
}

export function emptyWorld(): World {
  return {
    personas: {},
    agentIds: [],
    agents: {},
    posts: [],
    postsBySubtopic: {},
    postsByAuthor: {},
    treated: {},
    treatmentMessage: 'none',
    treatmentPeriod: 0,
    round: Number.NEGATIVE_INFINITY,
    stage: 'setup',
  };
}

export function engagementOf(post: Post): number {
  return post.likes + post.replies.length;
}

export function sortedIncludes(sorted: readonly number[], value: number): boolean {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = sorted[mid];
    if (v === value) return true;
    if (v < value) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}
