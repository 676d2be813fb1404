import type BetterSqlite3 from 'better-sqlite3';
import { isEligible } from '../domain/persona.js';
import { resolveStreamRef } from '../events/store.js';
import type { RecordedEvent } from '../domain/events.js';

/**
 * Folds events into the projection tables: per user and round (activity, likelihood, engagement),
 * per user and period (treatment), per user (counts, last likelihood, treatment group, vote) and
 * the personas. Runs inside the append transaction on the hot path, so a batch's deltas are summed
 * in memory first and written once per touched user. Every write is an upsert or an increment, so
 * the result does not depend on how events are split into batches: a rebuild gives the same rows.
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

export class ProjectionWriter {
  private readonly s: ReturnType<ProjectionWriter['prepare']>;

  constructor(private readonly sqlite: BetterSqlite3.Database) {
    this.s = this.prepare();
  }

  private prepare() {
    const db = this.sqlite;
    return {
      persona: db.prepare('insert into proj_personas (run_id, agent_id, age, persona) values (?, ?, ?, ?) on conflict (run_id, agent_id) do update set age = excluded.age, persona = excluded.persona'),
      agent: db.prepare(
        `insert into proj_agents (stream_id, agent_id, eligible, following, followers, liked, replied, posted, seen, last_likelihood, treated, voted)
         values (?, ?, ?, 0, 0, 0, 0, 0, 0, null, 0, null)
         on conflict (stream_id, agent_id) do nothing`,
      ),
      fork: db.prepare(
        `insert into proj_agents (stream_id, agent_id, eligible, following, followers, liked, replied, posted, seen, last_likelihood, treated, voted)
         select ?, agent_id, eligible, following, followers, liked, replied, posted, seen, last_likelihood, 0, null
         from proj_agents where stream_id = ?
         on conflict (stream_id, agent_id) do nothing`,
      ),
      addToAgent: db.prepare(
        `update proj_agents set following = following + ?, followers = followers + ?, liked = liked + ?, replied = replied + ?,
           posted = posted + ?, seen = seen + ?, last_likelihood = coalesce(?, last_likelihood), voted = coalesce(?, voted)
         where stream_id = ? and agent_id = ?`,
      ),
      untreatAll: db.prepare('update proj_agents set treated = 0 where stream_id = ?'),
      treat: db.prepare('update proj_agents set treated = 1 where stream_id = ? and agent_id = ?'),
      treatment: db.prepare('insert into proj_treatment (stream_id, agent_id, period, message) values (?, ?, ?, ?) on conflict do nothing'),
      round: db.prepare(
        `insert into proj_agent_rounds (stream_id, agent_id, round, active, likelihood, engagement) values (?, ?, ?, ?, ?, ?)
         on conflict (stream_id, agent_id, round) do update set
           active = case when excluded.active = 1 then 1 else proj_agent_rounds.active end,
           likelihood = coalesce(excluded.likelihood, proj_agent_rounds.likelihood),
           engagement = proj_agent_rounds.engagement + excluded.engagement`,
      ),
    };
  }

  /** Applies a batch of one stream's events. Must run inside a transaction (the append's, or a rebuild's). */
  handle(runId: number, events: readonly RecordedEvent[]): void {
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
    let stream = '';
    const flush = () => {
      for (const [id, d] of agents) {
        this.s.addToAgent.run(d.following, d.followers, d.liked, d.replied, d.posted, d.seen, d.lastLikelihood, d.voted, stream, id);
      }
      for (const { agentId, round: r, delta } of rounds.values()) {
        this.s.round.run(stream, agentId, r, delta.active, delta.likelihood, delta.engagement);
      }
      agents.clear();
      rounds.clear();
    };

    for (const e of events) {
      if (e.streamId !== stream) {
        flush();
        stream = e.streamId;
      }
      const id = e.meta.agentId ?? -1;
      switch (e.type) {
        case 'PopulationLoaded':
          for (const p of e.data.agents) {
            this.s.persona.run(runId, p.id, p.age, JSON.stringify(p));
            this.s.agent.run(stream, p.id, isEligible(p) ? 1 : 0);
          }
          for (const [source, target] of e.data.follows) {
            agent(source).following += 1;
            agent(target).followers += 1;
          }
          break;
        case 'StageStarted':
          if (e.data.forkedFrom) this.s.fork.run(stream, resolveStreamRef(runId, e.data.forkedFrom.stream));
          break;
        case 'TreatmentAssigned':
          // Treatment group is the latest period's: flush first so ordering with counts is kept.
          flush();
          this.s.untreatAll.run(stream);
          for (const treated of e.data.treatedIds) {
            this.s.treat.run(stream, treated);
            this.s.treatment.run(stream, treated, e.data.period, e.data.message);
          }
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
  }
}
