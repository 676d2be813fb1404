import { RunNotFoundError, UsageError } from '../errors.js';
import { EventStore } from '../events/store.js';

/** Opens an output directory that must already hold runs. */
export async function openStoreWithRuns(outDir: string): Promise<EventStore> {
  const store = await EventStore.openExisting(outDir);
  if (!store) throw new RunNotFoundError(`${outDir}: no sim.db here (run \`sim run --out ${outDir}\` first, or pass --out)`);
  return store;
}

/** The run named on the command line, or the latest one. */
export async function selectRun(store: EventStore, arg: string | undefined, flag = 'RUN_ID'): Promise<number> {
  if (arg === undefined) {
    const latest = await store.latestRunId();
    if (latest === null) throw new RunNotFoundError(`${store.file}: holds no runs`);
    return latest;
  }
  const id = Number(arg);
  if (!Number.isInteger(id) || id < 1) throw new UsageError(`${flag}: "${arg}" is not a run id (see \`sim runs\`)`);
  await store.getRun(id);
  return id;
}
