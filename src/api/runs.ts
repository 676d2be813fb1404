import { IntegrityError, RunNotFoundError, UsageError, type ChainBreakAt } from '../errors.js';
import { verifyChains } from '../report/integrity.js';
import { describeHeadMismatch } from '../events/hash-chain.js';
import type { StreamProgress } from '../events/port.js';
import { listRunsWithStreams, type RunSummary } from '../sim/run-catalogue.js';
import type { EventStore } from '../sim/store.js';
import { openExistingStoreFor, type StoreFlags } from './store.js';

export { openStoreWithRuns } from './store.js';

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

export type RunListing = RunSummary & { chains: ChainStatus };

/** `sim runs`: the runs of a store (none when there is none yet), each with its chains checked. */
export async function listRuns(where: StoreFlags, options: { verify?: boolean } = {}): Promise<RunListing[]> {
  const store = await openExistingStoreFor(where, 'read');
  const runs: RunListing[] = [];
  try {
    if (store) {
      for (const { summary, streams } of await listRunsWithStreams(store)) runs.push({ ...summary, chains: await chainStatus(store, streams, options.verify ?? false) });
    }
  } finally {
    await store?.close();
  }
  return runs;
}

async function chainStatus(store: EventStore, progress: readonly StreamProgress[], verify: boolean): Promise<ChainStatus> {
  if (!verify) {
    // The head check from what the listing read already: each stream's last event against its head.
    for (const s of progress) {
      const problem = describeHeadMismatch(s.streamId, { position: s.position, hash: s.hash }, s.lastEvent);
      if (problem) return { checked: 'heads', ok: false, broken: null, problem };
    }
    return { checked: 'heads', ok: true, broken: null, problem: null };
  }
  const check = await verifyChains(store, progress.map((s) => s.streamId));
  if (check.verified) return { checked: 'events', ok: true, broken: null, problem: null };
  return { checked: 'events', ok: false, broken: check.broken, problem: new IntegrityError(check.broken).message };
}
