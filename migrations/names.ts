/**
 * The names of the migrations in ./index.ts, in order, without their code: opening an up-to-date
 * SQLite store compares these with the names it has applied and loads kysely and the migrations only
 * when one is missing (test: src/events/sqlite/database.test.ts checks the two lists agree).
 */
export const MIGRATION_NAMES: readonly string[] = ['0001_event_store', '0002_projections', '0003_run_leases', '0004_agent_rounds_by_round', '0005_lease_heartbeat', '0006_run_spend', '0007_fell_back_index'];
