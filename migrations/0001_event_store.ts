import { Kysely } from 'kysely';

// kysely does not wrap SQLite migrations in a transaction, so each one opens its own:
// a migration is applied whole or not at all.
export async function up(db: Kysely<any>): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx.schema
      .createTable('runs')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('seed', 'integer', (c) => c.notNull())
      .addColumn('config', 'text', (c) => c.notNull())
      .addColumn('code_version', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .execute();

    await trx.schema
      .createTable('streams')
      .addColumn('stream_id', 'text', (c) => c.primaryKey())
      .addColumn('run_id', 'integer', (c) => c.notNull().references('runs.id'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('last_position', 'integer', (c) => c.notNull())
      .addColumn('last_hash', 'text', (c) => c.notNull())
      .execute();

    await trx.schema
      .createTable('events')
      .addColumn('position', 'integer', (c) => c.primaryKey())
      .addColumn('stream_id', 'text', (c) => c.notNull().references('streams.stream_id'))
      .addColumn('stream_position', 'integer', (c) => c.notNull())
      .addColumn('round', 'integer', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('agent_id', 'integer')
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('schema_version', 'integer', (c) => c.notNull())
      .addColumn('hash', 'text', (c) => c.notNull())
      .addUniqueConstraint('events_stream_position', ['stream_id', 'stream_position'])
      .execute();

    await trx.schema
      .createTable('llm_cache')
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('model', 'text', (c) => c.notNull())
      .addColumn('response', 'text', (c) => c.notNull())
      .addColumn('prompt_tokens', 'integer', (c) => c.notNull())
      .addColumn('completion_tokens', 'integer', (c) => c.notNull())
      .addColumn('cached_tokens', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
  });
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.transaction().execute(async (trx) => {
    for (const table of ['llm_cache', 'events', 'streams', 'runs']) await trx.schema.dropTable(table).execute();
  });
}
