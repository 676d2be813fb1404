import { Kysely, sql } from 'kysely';

/**
 * A partial index of the DecisionFellBack events by stream: `sim runs` and `sim status` count a
 * run's fallbacks from it instead of scanning every event of the run (seconds on a store of
 * millions of events). It holds only fallback rows (a few in a hundred decisions at most, none
 * offline), so appends pay next to nothing for it. The events themselves are unchanged.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create index if not exists events_fell_back on events (stream_id) where type = 'DecisionFellBack'`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index if exists events_fell_back`.execute(db);
}
