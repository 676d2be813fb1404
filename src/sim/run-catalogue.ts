import { fingerprintOf } from '../events/hash-chain.js';
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
    // A run left "running" with no live holder of its lease was killed: it is interrupted.
    const status: RunStatus = run.status === 'running' && !(await store.currentLease(run.id)) ? 'interrupted' : run.status;
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
