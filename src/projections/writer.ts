import { isEligible } from '../domain/persona.js';
import type { SimEvent } from '../domain/events.js';
import type { ProjectionOp } from '../events/port.js';
import { resolveStreamRef } from '../events/stream-ids.js';

/**
 * Folds events into projection rows: per user and round (activity, likelihood, engagement),
 * per user and period (treatment), per user (counts, last likelihood, treatment group, vote) and
 * the personas. The store writes the rows inside the append's transaction (or a rebuild's); here a
 * batch's deltas are summed in memory first so each touched user is written once. Every row is an
 * upsert or an increment, so the result does not depend on how events are split into batches: a
 * rebuild gives the same rows.
 */
interface AgentDelta {
  following: number;
  followers: number;
  liked: number;
  replied: number;
  posted: number;
  seen: number;
  lastLikelihood: number | null;
  voted: number | null;
}

interface RoundDelta {
  active: number;
  likelihood: number | null;
  engagement: number;
}

/** The projection rows of a batch of one stream's events, in the order the store must apply them. */
export function projectEvents(runId: number, stream: string, events: readonly SimEvent[]): ProjectionOp[] {
  const ops: ProjectionOp[] = [];
  const agents = new Map<number, AgentDelta>();
  const rounds = new Map<string, { agentId: number; round: number; delta: RoundDelta }>();
  const agent = (id: number) => {
    let d = agents.get(id);
    if (!d) agents.set(id, (d = { following: 0, followers: 0, liked: 0, replied: 0, posted: 0, seen: 0, lastLikelihood: null, voted: null }));
    return d;
  };
  const round = (id: number, r: number) => {
    const key = `${id}:${r}`;
    let entry = rounds.get(key);
    if (!entry) rounds.set(key, (entry = { agentId: id, round: r, delta: { active: 0, likelihood: null, engagement: 0 } }));
    return entry.delta;
  };
  const flush = () => {
    for (const [id, d] of agents) {
      ops.push({ op: 'addToAgent', stream, agentId: id, following: d.following, followers: d.followers, liked: d.liked, replied: d.replied, posted: d.posted, seen: d.seen, lastLikelihood: d.lastLikelihood, voted: d.voted });
    }
    for (const { agentId, round: r, delta } of rounds.values()) {
      ops.push({ op: 'round', stream, agentId, round: r, active: delta.active, likelihood: delta.likelihood, engagement: delta.engagement });
    }
    agents.clear();
    rounds.clear();
  };

  for (const e of events) {
    const id = e.meta.agentId ?? -1;
    switch (e.type) {
      case 'PopulationLoaded':
        for (const p of e.data.agents) {
          ops.push({ op: 'persona', runId, agentId: p.id, age: p.age, persona: JSON.stringify(p) });
          ops.push({ op: 'agent', stream, agentId: p.id, eligible: isEligible(p) ? 1 : 0 });
        }
        for (const [source, target] of e.data.follows) {
          agent(source).following += 1;
          agent(target).followers += 1;
        }
        break;
      case 'StageStarted':
        if (e.data.forkedFrom) ops.push({ op: 'fork', stream, from: resolveStreamRef(runId, e.data.forkedFrom.stream) });
        break;
      case 'TreatmentAssigned':
        // Treatment group is the latest period's: flush first so ordering with counts is kept.
        flush();
        ops.push({ op: 'untreatAll', stream });
        for (const treated of e.data.treatedIds) ops.push({ op: 'treat', stream, agentId: treated, period: e.data.period, message: e.data.message });
        break;
      case 'FeedServed':
        round(id, e.meta.round).active = 1;
        agent(id).seen += e.data.postIds.length;
        break;
      case 'PostLiked':
        agent(id).liked += 1;
        round(id, e.meta.round).engagement += 1;
        break;
      case 'PostReplied':
        agent(id).replied += 1;
        round(id, e.meta.round).engagement += 1;
        break;
      case 'PostCreated':
        agent(e.data.authorId).posted += 1;
        round(e.data.authorId, e.meta.round).engagement += 1;
        break;
      case 'UserFollowed':
        agent(id).following += 1;
        agent(e.data.targetId).followers += 1;
        break;
      case 'UserUnfollowed':
        agent(id).following -= 1;
        agent(e.data.targetId).followers -= 1;
        break;
      case 'VotingIntentionStated':
        agent(id).lastLikelihood = e.data.likelihood;
        round(id, e.meta.round).likelihood = e.data.likelihood;
        break;
      case 'VoteCast':
        agent(id).voted = e.data.voted ? 1 : 0;
        break;
      default:
        break;
    }
  }
  flush();
  return ops;
}
