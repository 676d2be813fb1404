import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventCodec, type SimEvent } from '../../src/domain/events.js';
import { directoryStore, openStore } from '../../src/events/open-store.js';
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

/** The backends the contract suite runs against. */
export function storeBackends(): Backend[] {
  return [sqliteBackend];
}
