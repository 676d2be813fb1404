import { produce, setAutoFreeze, type Draft } from 'immer';
import type { World } from '../domain/world.js';
import type { SimEvent } from './types.js';

// The world holds tens of thousands of agents: deep-freezing it after every round would cost more
// than the round. Nothing mutates a world outside `evolve`, which tests check with frozen copies.
setAutoFreeze(false);

/** The state after one event. The only way the world changes. */
export function evolve(state: World, event: SimEvent): World {
  return produce(state, (draft) => apply(draft, event));
}

/** The state after a batch of events (a round), folded inside one draft so nothing is copied per event. */
export function evolveAll(state: World, events: Iterable<SimEvent>): World {
  return produce(state, (draft) => {
    for (const event of events) apply(draft, event);
  });
}

function apply(w: Draft<World>, event: SimEvent): void {
  const agentId = event.meta.agentId ?? -1;
  switch (event.type) {
    case 'PopulationLoaded': {
      const ids = event.data.agents.map((a) => a.id).sort((a, b) => a - b);
      w.agentIds = ids;
      const following: Record<number, number[]> = {};
      for (const id of ids) following[id] = [];
      for (const [source, target] of event.data.follows) following[source].push(target);
      for (const persona of event.data.agents) {
        w.personas[persona.id] = persona;
        w.agents[persona.id] = {
          nextActivity: Number.POSITIVE_INFINITY,
          likelihood: null,
          lastTurn: null,
          seen: {},
          liked: {},
          replied: {},
          following: following[persona.id].sort((a, b) => a - b),
          voted: null,
        };
      }
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
      w.posts.push({ id: d.postId, authorId: d.authorId, topic: d.topic, subtopic: d.subtopic, text: d.text, round: event.meta.round, likes: 0, replies: [] });
      (w.postsBySubtopic[d.subtopic] ??= []).push(d.postId);
      (w.postsByAuthor[d.authorId] ??= []).push(d.postId);
      const turn = w.agents[d.authorId]?.lastTurn;
      if (turn && turn.round === event.meta.round) turn.posted = d.text;
      return;
    }
    case 'FeedServed':
      w.agents[agentId].lastTurn = { round: event.meta.round, liked: [], replied: [], posted: null };
      return;
    case 'PostLiked': {
      const post = w.posts[event.data.postId];
      post.likes += 1;
      const agent = w.agents[agentId];
      agent.liked[post.id] = true;
      agent.lastTurn?.liked.push({ postId: post.id, text: post.text });
      return;
    }
    case 'PostReplied': {
      const post = w.posts[event.data.postId];
      post.replies.push({ agentId, text: event.data.text, round: event.meta.round });
      const agent = w.agents[agentId];
      agent.replied[post.id] = true;
      agent.lastTurn?.replied.push({ postId: post.id, text: post.text, reply: event.data.text });
      return;
    }
    case 'UserFollowed': {
      const list = w.agents[agentId].following;
      const at = insertionIndex(list, event.data.targetId);
      if (list[at] !== event.data.targetId) list.splice(at, 0, event.data.targetId);
      return;
    }
    case 'UserUnfollowed': {
      const list = w.agents[agentId].following;
      const at = insertionIndex(list, event.data.targetId);
      if (list[at] === event.data.targetId) list.splice(at, 1);
      return;
    }
    case 'PostsSeen': {
      const seen = w.agents[agentId].seen;
      for (const [postId, replies] of event.data.posts) seen[postId] = replies;
      return;
    }
    case 'VotingIntentionStated':
      w.agents[agentId].likelihood = event.data.likelihood;
      return;
    case 'NextActivityScheduled':
      w.agents[agentId].nextActivity = event.data.nextRound;
      return;
    case 'VoteCast':
      w.agents[agentId].voted = event.data.voted;
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
