import { Kysely } from 'kysely';

/**
 * Who is executing a run right now. A process holds the lease while it appends; a second process
 * finds it and refuses. A lease whose process is gone (killed) is stale and can be taken over.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('run_leases')
    .addColumn('run_id', 'integer', (c) => c.primaryKey())
    .addColumn('host', 'text', (c) => c.notNull())
    .addColumn('pid', 'integer', (c) => c.notNull())
    .addColumn('acquired_at', 'text', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('run_leases').execute();
}
