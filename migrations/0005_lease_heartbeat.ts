import { Kysely } from 'kysely';

/**
 * When a run's holder last renewed its lease. On SQLite the heartbeat decides: a lease not renewed
 * for a while is stale whoever wrote it (a killed or frozen process, another host), so no lease is
 * respected forever. On PostgreSQL a session advisory lock decides and the heartbeat is information.
 * Rows written before this have none and count as stale.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('run_leases').addColumn('heartbeat_at', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('run_leases').dropColumn('heartbeat_at').execute();
}
