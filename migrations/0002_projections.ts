import { Kysely } from 'kysely';

/** Tables folded from events (src/projections). They can be dropped and rebuilt from the log. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('proj_personas')
    .addColumn('run_id', 'integer', (c) => c.notNull())
    .addColumn('agent_id', 'integer', (c) => c.notNull())
    .addColumn('age', 'integer', (c) => c.notNull())
    .addColumn('persona', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('proj_personas_pk', ['run_id', 'agent_id'])
    .execute();

  await db.schema
    .createTable('proj_agents')
    .addColumn('stream_id', 'text', (c) => c.notNull())
    .addColumn('agent_id', 'integer', (c) => c.notNull())
    .addColumn('eligible', 'integer', (c) => c.notNull())
    .addColumn('following', 'integer', (c) => c.notNull())
    .addColumn('followers', 'integer', (c) => c.notNull())
    .addColumn('liked', 'integer', (c) => c.notNull())
    .addColumn('replied', 'integer', (c) => c.notNull())
    .addColumn('posted', 'integer', (c) => c.notNull())
    .addColumn('seen', 'integer', (c) => c.notNull())
    .addColumn('last_likelihood', 'integer')
    .addColumn('treated', 'integer', (c) => c.notNull())
    .addColumn('voted', 'integer')
    .addPrimaryKeyConstraint('proj_agents_pk', ['stream_id', 'agent_id'])
    .execute();

  await db.schema
    .createTable('proj_agent_rounds')
    .addColumn('stream_id', 'text', (c) => c.notNull())
    .addColumn('agent_id', 'integer', (c) => c.notNull())
    .addColumn('round', 'integer', (c) => c.notNull())
    .addColumn('active', 'integer', (c) => c.notNull())
    .addColumn('likelihood', 'integer')
    .addColumn('engagement', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('proj_agent_rounds_pk', ['stream_id', 'agent_id', 'round'])
    .execute();

  await db.schema
    .createTable('proj_treatment')
    .addColumn('stream_id', 'text', (c) => c.notNull())
    .addColumn('agent_id', 'integer', (c) => c.notNull())
    .addColumn('period', 'integer', (c) => c.notNull())
    .addColumn('message', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('proj_treatment_pk', ['stream_id', 'agent_id', 'period'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['proj_treatment', 'proj_agent_rounds', 'proj_agents', 'proj_personas']) await db.schema.dropTable(table).execute();
}
