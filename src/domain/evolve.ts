import { enableMapSet, produce, setAutoFreeze, type Draft } from 'immer';
import type { AgentState, Post, World } from './world.js';
import type { SimEvent } from './events.js';

// The world holds tens of thousands of agents: deep-freezing it after every round would cost more
// than the round. Nothing mutates a world outside `evolve`, which tests check with frozen copies.
setAutoFreeze(false);
// Agents hold Maps and Sets; they are copied privately per batch (never drafted), but immer must
// still know them should any path reach one through a draft.
enableMapSet();

/** The state after one event. The only way the world changes. */
export function evolve(state: World, event: SimEvent): World {
  return evolveAll(state, [event]);
}

/**
 * The state after a batch of events (a round), folded inside one immer draft so nothing is copied
 * per event. An agent or post touched by the batch is copied once, on first touch, into the draft;
 * later events of the batch change that private copy directly instead of going through proxies
 * (tens of thousands of events per round made the proxies the slowest part of a round).
 */
export function evolveAll(state: World, events: Iterable<SimEvent>): World {
  return produce(state, (draft) => {
    const batch: Batch = { w: draft, base: state, agents: new Map(), posts: new Map() };
    for (const event of events) apply(batch, event);
    // The private copies hold no drafts; frozen, immer's finalisation does not walk into them.
    for (const agent of batch.agents.values()) Object.freeze(agent);
    for (const post of batch.posts.values()) Object.freeze(post);
  });
}

interface Batch {
  w: Draft<World>;
  base: World;
  agents: Map<number, AgentState>;
  posts: Map<number, Post>;
  agentIds?: number[];
}

function agentOf(b: Batch, id: number): AgentState {
  let agent = b.agents.get(id);
  if (!agent) {
    const base = b.base.agents[id];
    if (!base) throw new Error(`event names agent ${id}, who is not in the population`);
    agent = {
      ...base,
      seen: new Map(base.seen),
      liked: new Set(base.liked),
      replied: new Set(base.replied),
      following: base.following.slice(),
      lastTurn: base.lastTurn,
    };
    b.w.agents[id] = agent;
    b.agents.set(id, agent);
  }
  return agent;
}

function postOf(b: Batch, id: number): Post {
  let post = b.posts.get(id);
  if (!post) {
    const base = b.base.posts[id];
    if (!base) throw new Error(`event names post ${id}, which does not exist`);
    post = { ...base, replies: base.replies.slice() };
    b.w.posts[id] = post;
    b.posts.set(id, post);
  }
  return post;
}

function apply(b: Batch, event: SimEvent): void {
  const w = b.w;
  const agentId = event.meta.agentId ?? -1;
  switch (event.type) {
    case 'PopulationLoaded': {
      const ids = event.data.agents.map((a) => a.id).sort((x, y) => x - y);
      if (ids.length > 0) {
        // Kept as a private array for the batch: parts arrive in ascending id order, so this appends.
        b.agentIds ??= b.base.agentIds.slice();
        const last = b.agentIds[b.agentIds.length - 1];
        b.agentIds.push(...ids);
        if (last !== undefined && ids[0] < last) b.agentIds.sort((x, y) => x - y);
        w.agentIds = b.agentIds;
      }
      for (const persona of event.data.agents) {
        w.personas[persona.id] = persona;
        const agent: AgentState = {
          nextActivity: Number.POSITIVE_INFINITY,
          likelihood: null,
          lastTurn: null,
          seen: new Map(),
          liked: new Set(),
          replied: new Set(),
          following: [],
          voted: null,
        };
        w.agents[persona.id] = agent;
        b.agents.set(persona.id, agent);
      }
      const touched = new Set<number>();
      for (const [source, target] of event.data.follows) {
        agentOf(b, source).following.push(target);
        touched.add(source);
      }
      for (const source of touched) agentOf(b, source).following.sort((x, y) => x - y);
      return;
    }
    case 'StageStarted':
      w.stage = event.data.stage;
      return;
    case 'TreatmentAssigned': {
      const treated: Record<number, true> = {};
      for (const id of event.data.treatedIds) treated[id] = true;
      w.treated = treated;
      w.treatmentMessage = event.data.message;
      w.treatmentPeriod = event.data.period;
      return;
    }
    case 'PostCreated': {
      const d = event.data;
      if (d.postId !== w.posts.length) throw new Error(`PostCreated: post id ${d.postId} out of sequence (next is ${w.posts.length})`);
      const post: Post = { id: d.postId, authorId: d.authorId, topic: d.topic, subtopic: d.subtopic, text: d.text, round: event.meta.round, likes: 0, replies: [] };
      w.posts.push(post);
      b.posts.set(post.id, post);
      (w.postsBySubtopic[d.subtopic] ??= []).push(d.postId);
      (w.postsByAuthor[d.authorId] ??= []).push(d.postId);
      const author = agentOf(b, d.authorId);
      if (author.lastTurn && author.lastTurn.round === event.meta.round) author.lastTurn = { ...author.lastTurn, posted: d.text };
      return;
    }
    case 'FeedServed':
      agentOf(b, agentId).lastTurn = { round: event.meta.round, liked: [], replied: [], posted: null };
      return;
    case 'PostLiked': {
      const post = postOf(b, event.data.postId);
      post.likes += 1;
      const agent = agentOf(b, agentId);
      agent.liked.add(post.id);
      if (agent.lastTurn) agent.lastTurn = { ...agent.lastTurn, liked: [...agent.lastTurn.liked, { postId: post.id, text: post.text }] };
      return;
    }
    case 'PostReplied': {
      const post = postOf(b, event.data.postId);
      post.replies.push({ agentId, text: event.data.text, round: event.meta.round });
      const agent = agentOf(b, agentId);
      agent.replied.add(post.id);
      if (agent.lastTurn) agent.lastTurn = { ...agent.lastTurn, replied: [...agent.lastTurn.replied, { postId: post.id, text: post.text, reply: event.data.text }] };
      return;
    }
    case 'UserFollowed': {
      const list = agentOf(b, agentId).following;
      const at = insertionIndex(list, event.data.targetId);
      if (list[at] !== event.data.targetId) list.splice(at, 0, event.data.targetId);
      return;
    }
    case 'UserUnfollowed': {
      const list = agentOf(b, agentId).following;
      const at = insertionIndex(list, event.data.targetId);
      if (list[at] === event.data.targetId) list.splice(at, 1);
      return;
    }
    case 'PostsSeen': {
      const seen = agentOf(b, agentId).seen;
      for (const [postId, replies] of event.data.posts) seen.set(postId, replies);
      return;
    }
    case 'VotingIntentionStated':
      agentOf(b, agentId).likelihood = event.data.likelihood;
      return;
    case 'NextActivityScheduled':
      agentOf(b, agentId).nextActivity = event.data.nextRound;
      return;
    case 'VoteCast':
      agentOf(b, agentId).voted = event.data.voted;
      return;
    case 'RoundCompleted':
      w.round = event.meta.round;
      return;
    case 'StageCompleted':
    case 'TreatmentMessageShown':
    case 'DecisionFellBack':
      return;
  }
}

function insertionIndex(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * How a recorded stream folds into a world: a round (up to its RoundCompleted) at a time, ending at
 * StageCompleted. Given to the store's generic `foldStream`.
 */
export const worldFold = {
  evolveAll: (state: World, events: SimEvent[]): World => evolveAll(state, events),
  endsBatch: (event: SimEvent): boolean => event.type === 'RoundCompleted' || event.type === 'StageCompleted',
  endsStream: (event: SimEvent): boolean => event.type === 'StageCompleted',
};

