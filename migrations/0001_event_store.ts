import { Kysely } from 'kysely';
import { generatedKey, int64 } from './dialect.js';

// The Migrator runs pending migrations in one transaction on both dialects (src/events/sqlite/database.ts
// tells kysely SQLite's DDL is transactional): a migration is applied whole or not at all.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('runs')
    .addColumn('id', 'integer', generatedKey(db, true))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('seed', int64(db), (c) => c.notNull())
    .addColumn('config', 'text', (c) => c.notNull())
    .addColumn('code_version', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('streams')
    .addColumn('stream_id', 'text', (c) => c.primaryKey())
    .addColumn('run_id', 'integer', (c) => c.notNull().references('runs.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('last_position', int64(db), (c) => c.notNull())
    .addColumn('last_hash', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('events')
    .addColumn('position', int64(db), generatedKey(db, false))
    .addColumn('stream_id', 'text', (c) => c.notNull().references('streams.stream_id'))
    .addColumn('stream_position', int64(db), (c) => c.notNull())
    .addColumn('round', 'integer', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('agent_id', 'integer')
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('schema_version', 'integer', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .addUniqueConstraint('events_stream_position', ['stream_id', 'stream_position'])
    .execute();

  await db.schema
    .createTable('llm_cache')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('response', 'text', (c) => c.notNull())
    .addColumn('prompt_tokens', 'integer', (c) => c.notNull())
    .addColumn('completion_tokens', 'integer', (c) => c.notNull())
    .addColumn('cached_tokens', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['llm_cache', 'events', 'streams', 'runs']) await db.schema.dropTable(table).execute();
}
