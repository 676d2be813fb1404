import { Kysely } from 'kysely';

/**
 * What each run has spent on LLM calls, in USD at its config's prices, summed over every process
 * that executed it (`sim run`, `sim resume`, each worker's jobs): what the spending cap
 * (--max-cost, llm.max_cost_usd) is held against. A round's estimate is added before its requests
 * are sent and replaced by what they cost once they are answered, so processes sharing a run see
 * each other's spend (src/api/spend.ts).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('run_spend')
    .ifNotExists()
    .addColumn('run_id', 'integer', (c) => c.primaryKey())
    .addColumn('spent_usd', 'double precision', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('run_spend').execute();
}
