import { IntegrityError, RunNotFoundError, UsageError, type ChainBreakAt } from '../errors.js';
import { EventStore } from '../events/store.js';
import { verifyChains } from '../report/integrity.js';

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

/** What `sim runs` found about a run's hash chains. */
export interface ChainStatus {
  /** "heads": stored heads against the events (cheap, every time); "events": every hash recomputed (--verify). */
  checked: 'heads' | 'events';
  ok: boolean;
  /** Where the first recomputed chain breaks (--verify), as data. */
  broken: ChainBreakAt | null;
  /** The problem as one line, as printed. */
  problem: string | null;
}

export type RunListing = Awaited<ReturnType<EventStore['listRuns']>>[number] & { chains: ChainStatus };

/** `sim runs`: the runs of an output folder (none when it holds no sim.db), each with its chains checked. */
export async function listRuns(outDir: string, options: { verify?: boolean } = {}): Promise<RunListing[]> {
  const store = await EventStore.openExisting(outDir);
  const runs: RunListing[] = [];
  try {
    if (store) {
      for (const run of await store.listRuns()) runs.push({ ...run, chains: await chainStatus(store, run.id, options.verify ?? false) });
    }
  } finally {
    await store?.close();
  }
  return runs;
}

async function chainStatus(store: EventStore, runId: number, verify: boolean): Promise<ChainStatus> {
  const streams = (await store.runStreams(runId)).map((s) => s.streamId);
  if (!verify) {
    for (const stream of streams) {
      const problem = store.headMismatch(stream);
      if (problem) return { checked: 'heads', ok: false, broken: null, problem };
    }
    return { checked: 'heads', ok: true, broken: null, problem: null };
  }
  const check = verifyChains(store, streams);
  if (check.verified) return { checked: 'events', ok: true, broken: null, problem: null };
  return { checked: 'events', ok: false, broken: check.broken, problem: new IntegrityError(check.broken).message };
}
