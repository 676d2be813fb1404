import type BetterSqlite3 from 'better-sqlite3';
import type { ProjectionOp } from '../port.js';

const STREAM_TABLES = ['proj_agent_rounds', 'proj_treatment', 'proj_agents'] as const;

/** The projection tables' writes as cached prepared statements, applied inside the caller's transaction. */
export class ProjectionStatements {
  private readonly s: ReturnType<ProjectionStatements['prepare']>;

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
      clearPersonas: db.prepare('delete from proj_personas where run_id = ?'),
      clear: STREAM_TABLES.map((table) => db.prepare(`delete from ${table} where stream_id = ?`)),
    };
  }

  /** Must run inside a transaction. */
  apply(ops: readonly ProjectionOp[]): void {
    const s = this.s;
    for (const o of ops) {
      switch (o.op) {
        case 'persona':
          s.persona.run(o.runId, o.agentId, o.age, o.persona);
          break;
        case 'agent':
          s.agent.run(o.stream, o.agentId, o.eligible);
          break;
        case 'fork':
          s.fork.run(o.stream, o.from);
          break;
        case 'addToAgent':
          s.addToAgent.run(o.following, o.followers, o.liked, o.replied, o.posted, o.seen, o.lastLikelihood, o.voted, o.stream, o.agentId);
          break;
        case 'untreatAll':
          s.untreatAll.run(o.stream);
          break;
        case 'treat':
          s.treat.run(o.stream, o.agentId);
          s.treatment.run(o.stream, o.agentId, o.period, o.message);
          break;
        case 'round':
          s.round.run(o.stream, o.agentId, o.round, o.active, o.likelihood, o.engagement);
          break;
      }
    }
  }

  /** Deletes the projection rows of a run's streams and its personas. Must run inside a transaction. */
  clear(runId: number, streams: readonly string[]): void {
    for (const stream of streams) for (const statement of this.s.clear) statement.run(stream);
    this.s.clearPersonas.run(runId);
  }
}
