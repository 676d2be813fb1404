import { sql, type Kysely, type Transaction } from 'kysely';
import type { ProjectionOp } from '../port.js';
import type { Database } from '../schema.js';

type Db = Kysely<Database> | Transaction<Database>;
type Op<K extends ProjectionOp['op']> = Extract<ProjectionOp, { op: K }>;

/** Ops that act on many rows at once: everything before them is applied first, everything after later. */
const BARRIERS = new Set<ProjectionOp['op']>(['fork', 'untreatAll']);

/** The order in which a segment's ops (between barriers) are applied: rows exist before they are updated. */
const ORDER = ['persona', 'agent', 'addToAgent', 'round', 'treat'] as const;

function keyOf(o: ProjectionOp): string {
  switch (o.op) {
    case 'persona':
      return `${o.runId}:${o.agentId}`;
    case 'agent':
    case 'addToAgent':
      return `${o.stream}:${o.agentId}`;
    case 'round':
      return `${o.stream}:${o.agentId}:${o.round}`;
    case 'treat':
      return `${o.stream}:${o.agentId}:${o.period}`;
    default:
      return '';
  }
}

/**
 * Applies projection ops inside the caller's transaction, a few statements per batch instead of one
 * per row (each statement is a round trip to the server): the ops between two barriers are grouped
 * by kind and each group is sent as arrays (`unnest`). The kinds commute within a segment except
 * that rows are created before they are updated, which ORDER keeps. A key repeated within a group
 * starts a new statement, so increments to the same row are all applied.
 */
export async function applyProjections(db: Db, ops: readonly ProjectionOp[]): Promise<void> {
  let segment: ProjectionOp[] = [];
  for (const o of ops) {
    if (BARRIERS.has(o.op)) {
      await applySegment(db, segment);
      segment = [];
      await applyBarrier(db, o);
    } else {
      segment.push(o);
    }
  }
  await applySegment(db, segment);
}

async function applyBarrier(db: Db, o: ProjectionOp): Promise<void> {
  if (o.op === 'fork') {
    await sql`insert into proj_agents (stream_id, agent_id, eligible, following, followers, liked, replied, posted, seen, last_likelihood, treated, voted)
      select ${o.stream}, agent_id, eligible, following, followers, liked, replied, posted, seen, last_likelihood, 0, null
      from proj_agents where stream_id = ${o.from}
      on conflict (stream_id, agent_id) do nothing`.execute(db);
  } else if (o.op === 'untreatAll') {
    await sql`update proj_agents set treated = 0 where stream_id = ${o.stream}`.execute(db);
  }
}

async function applySegment(db: Db, segment: ProjectionOp[]): Promise<void> {
  if (segment.length === 0) return;
  for (const kind of ORDER) {
    const ops = segment.filter((o) => o.op === kind);
    let chunk: ProjectionOp[] = [];
    let keys = new Set<string>();
    for (const o of ops) {
      const key = keyOf(o);
      if (keys.has(key)) {
        await applyGroup(db, kind, chunk);
        chunk = [];
        keys = new Set();
      }
      keys.add(key);
      chunk.push(o);
    }
    await applyGroup(db, kind, chunk);
  }
}

async function applyGroup(db: Db, kind: (typeof ORDER)[number], ops: ProjectionOp[]): Promise<void> {
  if (ops.length === 0) return;
  switch (kind) {
    case 'persona': {
      const o = ops as Array<Op<'persona'>>;
      await sql`insert into proj_personas (run_id, agent_id, age, persona)
        select * from unnest(${o.map((x) => x.runId)}::int[], ${o.map((x) => x.agentId)}::int[], ${o.map((x) => x.age)}::int[], ${o.map((x) => x.persona)}::text[])
        on conflict (run_id, agent_id) do update set age = excluded.age, persona = excluded.persona`.execute(db);
      return;
    }
    case 'agent': {
      const o = ops as Array<Op<'agent'>>;
      await sql`insert into proj_agents (stream_id, agent_id, eligible, following, followers, liked, replied, posted, seen, last_likelihood, treated, voted)
        select s, a, e, 0, 0, 0, 0, 0, 0, null, 0, null from unnest(${o.map((x) => x.stream)}::text[], ${o.map((x) => x.agentId)}::int[], ${o.map((x) => x.eligible)}::int[]) as t(s, a, e)
        on conflict (stream_id, agent_id) do nothing`.execute(db);
      return;
    }
    case 'addToAgent': {
      const o = ops as Array<Op<'addToAgent'>>;
      await sql`update proj_agents p set following = p.following + t.f, followers = p.followers + t.fo, liked = p.liked + t.l, replied = p.replied + t.r,
          posted = p.posted + t.po, seen = p.seen + t.se, last_likelihood = coalesce(t.ll, p.last_likelihood), voted = coalesce(t.v, p.voted)
        from unnest(${o.map((x) => x.stream)}::text[], ${o.map((x) => x.agentId)}::int[], ${o.map((x) => x.following)}::int[], ${o.map((x) => x.followers)}::int[],
          ${o.map((x) => x.liked)}::int[], ${o.map((x) => x.replied)}::int[], ${o.map((x) => x.posted)}::int[], ${o.map((x) => x.seen)}::int[],
          ${o.map((x) => x.lastLikelihood)}::int[], ${o.map((x) => x.voted)}::int[]) as t(s, a, f, fo, l, r, po, se, ll, v)
        where p.stream_id = t.s and p.agent_id = t.a`.execute(db);
      return;
    }
    case 'round': {
      const o = ops as Array<Op<'round'>>;
      await sql`insert into proj_agent_rounds (stream_id, agent_id, round, active, likelihood, engagement)
        select * from unnest(${o.map((x) => x.stream)}::text[], ${o.map((x) => x.agentId)}::int[], ${o.map((x) => x.round)}::int[], ${o.map((x) => x.active)}::int[],
          ${o.map((x) => x.likelihood)}::int[], ${o.map((x) => x.engagement)}::int[])
        on conflict (stream_id, agent_id, round) do update set
          active = case when excluded.active = 1 then 1 else proj_agent_rounds.active end,
          likelihood = coalesce(excluded.likelihood, proj_agent_rounds.likelihood),
          engagement = proj_agent_rounds.engagement + excluded.engagement`.execute(db);
      return;
    }
    case 'treat': {
      const o = ops as Array<Op<'treat'>>;
      const streams = o.map((x) => x.stream);
      const agents = o.map((x) => x.agentId);
      await sql`update proj_agents p set treated = 1 from unnest(${streams}::text[], ${agents}::int[]) as t(s, a) where p.stream_id = t.s and p.agent_id = t.a`.execute(db);
      await sql`insert into proj_treatment (stream_id, agent_id, period, message)
        select * from unnest(${streams}::text[], ${agents}::int[], ${o.map((x) => x.period)}::int[], ${o.map((x) => x.message)}::text[])
        on conflict do nothing`.execute(db);
      return;
    }
  }
}

/** Deletes the projection rows of a run's streams and its personas (inside the caller's transaction). */
export async function clearProjections(db: Db, runId: number, streams: readonly string[]): Promise<void> {
  for (const table of ['proj_agent_rounds', 'proj_treatment', 'proj_agents'] as const) {
    await sql`delete from ${sql.table(table)} where stream_id = any(${[...streams]}::text[])`.execute(db);
  }
  await sql`delete from proj_personas where run_id = ${runId}`.execute(db);
}
