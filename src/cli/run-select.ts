import { RunNotFoundError, UsageError } from '../errors.js';
import type { EventStore } from '../sim/store.js';
import { openExistingStoreFor, storeLocation, storeName, type StoreFlags } from './store-option.js';

/** Opens the store (--store, SIM_STORE, or OUT/sim.db) that must already hold runs. */
export async function openStoreWithRuns(flags: StoreFlags): Promise<EventStore> {
  const store = await openExistingStoreFor(flags);
  if (!store) {
    if (storeLocation(flags).backend === 'sqlite' && flags.store === undefined && !process.env.SIM_STORE) {
      throw new RunNotFoundError(`${flags.out}: no sim.db here (run \`sim run --out ${flags.out}\` first, or pass --out)`);
    }
    throw new RunNotFoundError(`${storeName(flags)}: holds no sim store yet (record a run into it with \`sim run --store ...\` first)`);
  }
  return store;
}

/** The run named on the command line, or the latest one. */
export async function selectRun(store: EventStore, arg: string | undefined, flag = 'RUN_ID'): Promise<number> {
  if (arg === undefined) {
    const latest = await store.latestRunId();
    if (latest === null) throw new RunNotFoundError(`${store.location}: holds no runs`);
    return latest;
  }
  const id = Number(arg);
  if (!Number.isInteger(id) || id < 1) throw new UsageError(`${flag}: "${arg}" is not a run id (see \`sim runs\`)`);
  await store.getRun(id);
  return id;
}
