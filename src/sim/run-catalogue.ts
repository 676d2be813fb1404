import { fingerprintOf } from '../events/hash-chain.js';
import { leaseIsLive } from '../events/leases.js';
import type { RunStatus } from '../events/port.js';
import type { EventStore } from './store.js';

export interface RunSummary {
  id: number;
  seed: number;
  status: RunStatus;
  createdAt: string;
  events: number;
  streams: number;
  lastRound: number | null;
  fellBack: number;
  fingerprint: string;
}

/** The runs of a store with what `sim runs` shows of each. */
export async function listRuns(store: EventStore): Promise<RunSummary[]> {
  const out: RunSummary[] = [];
  for (const run of await store.listRunRows()) {
    const stats = await store.runEventStats(run.id);
    const streams = await store.runStreams(run.id);
    // A run left "running" with no live process behind it was killed: it is interrupted.
    const lease = await store.currentLease(run.id);
    const status: RunStatus = run.status === 'running' && !(lease && leaseIsLive(lease)) ? 'interrupted' : run.status;
    out.push({
      id: run.id,
      seed: run.seed,
      status,
      createdAt: run.createdAt,
      events: stats.events,
      streams: streams.length,
      lastRound: stats.byType.get('RoundCompleted')?.maxRound ?? null,
      fellBack: stats.byType.get('DecisionFellBack')?.count ?? 0,
      fingerprint: fingerprintOf(streams),
    });
  }
  return out;
}
