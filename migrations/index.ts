import type { Migration, MigrationProvider } from 'kysely';
import * as m0001 from './0001_event_store.js';
import * as m0002 from './0002_projections.js';
import * as m0003 from './0003_run_leases.js';
import * as m0004 from './0004_agent_rounds_by_round.js';
import * as m0005 from './0005_lease_heartbeat.js';
import * as m0006 from './0006_run_spend.js';
import * as m0007 from './0007_fell_back_index.js';

/**
 * The migrations, in order. Listed statically (not read from the folder at run time) so the set the
 * code knows is fixed and a database holding a migration not listed here can be refused as newer.
 */
export const migrations: Record<string, Migration> = {
  '0001_event_store': m0001,
  '0002_projections': m0002,
  '0003_run_leases': m0003,
  '0004_agent_rounds_by_round': m0004,
  '0005_lease_heartbeat': m0005,
  '0006_run_spend': m0006,
  '0007_fell_back_index': m0007,
};

export const migrationProvider: MigrationProvider = {
  async getMigrations() {
    return migrations;
  },
};
