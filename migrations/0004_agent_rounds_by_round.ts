import { Kysely, sql } from 'kysely';
import { dialectOf } from './dialect.js';

/**
 * proj_agent_rounds keyed by (stream, round, agent) instead of (stream, agent, round). A round
 * writes one row per active agent; keyed agent first, those rows landed on a different leaf of the
 * key's B-tree each, so every append rewrote (and wrote to SQLite's WAL) a page per active agent.
 * Keyed round first, a round's rows are neighbours: 3-4x less time writing them (docs/performance.md,
 * "The per-turn cost"). The rows are the same; readers order them as they need.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await rekey(db, ['stream_id', 'round', 'agent_id']);
}

export async function down(db: Kysely<any>): Promise<void> {
  await rekey(db, ['stream_id', 'agent_id', 'round']);
}

type Column = 'stream_id' | 'agent_id' | 'round';

async function rekey(db: Kysely<any>, key: Column[]): Promise<void> {
  if (dialectOf(db) === 'postgres') {
    await sql`alter table proj_agent_rounds drop constraint proj_agent_rounds_pk`.execute(db);
    await sql`alter table proj_agent_rounds add constraint proj_agent_rounds_pk primary key (${sql.join(key.map((c) => sql.ref(c)))})`.execute(db);
    return;
  }
  // SQLite cannot change a table's primary key: copy the rows into a new table and swap.
  await db.schema
    .createTable('proj_agent_rounds_rekeyed')
    .addColumn('stream_id', 'text', (c) => c.notNull())
    .addColumn('agent_id', 'integer', (c) => c.notNull())
    .addColumn('round', 'integer', (c) => c.notNull())
    .addColumn('active', 'integer', (c) => c.notNull())
    .addColumn('likelihood', 'integer')
    .addColumn('engagement', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('proj_agent_rounds_pk', key)
    .execute();
  await sql`insert into proj_agent_rounds_rekeyed (stream_id, agent_id, round, active, likelihood, engagement)
    select stream_id, agent_id, round, active, likelihood, engagement from proj_agent_rounds order by ${sql.join(key.map((c) => sql.ref(c)))}`.execute(db);
  await db.schema.dropTable('proj_agent_rounds').execute();
  await db.schema.alterTable('proj_agent_rounds_rekeyed').renameTo('proj_agent_rounds').execute();
}
