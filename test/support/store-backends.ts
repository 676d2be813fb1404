import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventCodec, type SimEvent } from '../../src/domain/events.js';
import { sql } from 'kysely';
import { directoryStore, openStore, parseStoreLocation } from '../../src/events/open-store.js';
import type { PostgresStore } from '../../src/events/postgres/store.js';
import type { Store } from '../../src/events/port.js';
import type { SqliteStore } from '../../src/events/sqlite/store.js';

/** A fresh, empty store of one backend for one test, and ways to reach under it. */
export interface TestStore {
  store: Store<SimEvent>;
  /** Another connection to the same store. */
  reopen(): Promise<Store<SimEvent>>;
  /** Runs SQL directly (tests tamper with rows). */
  exec(sql: string): Promise<void>;
  dispose(): Promise<void>;
}

export interface Backend {
  name: string;
  /** Why this backend is not tested here, or null. */
  skip: string | null;
  create(): Promise<TestStore>;
  dispose?(): Promise<void>;
}

export const sqliteBackend: Backend = {
  name: 'sqlite',
  skip: null,
  async create() {
    const dir = mkdtempSync(join(tmpdir(), 'sim-contract-'));
    const open = async () => (await openStore<SimEvent>(directoryStore(dir), eventCodec))!;
    const store = await open();
    const others: Array<Store<SimEvent>> = [];
    return {
      store,
      async reopen() {
        const other = await open();
        others.push(other);
        return other;
      },
      async exec(sql: string) {
        (store as SqliteStore<SimEvent>).sqlite.prepare(sql).run();
      },
      async dispose() {
        for (const s of [store, ...others]) await s.close().catch(() => undefined);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

/** The URL of a PostgreSQL server for tests, or why there is none (a skip under CI is a failure). */
export function postgresForTests(): { url: string | null; reason: string } {
  const url = process.env.SIM_TEST_PG_URL?.trim() || null;
  return { url, reason: url ? '' : 'SIM_TEST_PG_URL is not set (bash .ci/run starts a throwaway server and sets it)' };
}

/** Under CI (SIM_REQUIRE_POSTGRES=1) a missing server fails instead of skipping. */
export const postgresRequired = process.env.SIM_REQUIRE_POSTGRES === '1';

let databases = 0;

/**
 * A fresh database on the test server: CREATE DATABASE with a name of its own, so tests (and test
 * files running in parallel) never see each other's rows. Returns its URL and a function dropping it.
 */
export async function freshPostgresDatabase(serverUrl: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const pg = (await import('pg')).default;
  databases += 1;
  const name = `sim_test_${process.pid}_${Date.now().toString(36)}_${databases}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const again = new pg.Client({ connectionString: serverUrl });
      await again.connect();
      try {
        await again.query(`drop database if exists ${name} with (force)`);
      } finally {
        await again.end();
      }
    },
  };
}

export function postgresBackend(): Backend {
  const { url: server, reason } = postgresForTests();
  if (!server && !postgresRequired) return { name: 'postgres', skip: reason, create: () => Promise.reject(new Error(reason)) };
  return {
    name: 'postgres',
    skip: null,
    async create() {
      if (!server) throw new Error(`SIM_REQUIRE_POSTGRES=1 but ${reason}: the PostgreSQL backend must be tested here`);
      const db = await freshPostgresDatabase(server);
      const location = parseStoreLocation(db.url);
      const open = async () => (await openStore<SimEvent>(location, eventCodec))!;
      const store = await open();
      const others: Array<Store<SimEvent>> = [];
      return {
        store,
        async reopen() {
          const other = await open();
          others.push(other);
          return other;
        },
        async exec(text: string) {
          await sql.raw(text).execute((store as PostgresStore<SimEvent>).db);
        },
        async dispose() {
          for (const s of [store, ...others]) await s.close().catch(() => undefined);
          await db.drop();
        },
      };
    },
  };
}

/** The backends the contract suite runs against. */
export function storeBackends(): Backend[] {
  return [sqliteBackend, postgresBackend()];
}
