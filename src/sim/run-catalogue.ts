import { fingerprintOf } from '../events/hash-chain.js';
import type { RunStatus, StreamProgress } from '../events/port.js';
import type { EventStore } from './store.js';

export interface RunSummary {
  id: number;
  seed: number;
  status: RunStatus;
  createdAt: string;
  events: number;
  streams: number;
  /**
   * The last complete round: while a stream is unfinished, that of the least advanced unfinished
   * stream under way (named by `inProgress`; null when none has a complete round yet), else the
   * highest of the run's.
   */
  lastRound: number | null;
  /** The unfinished stream `lastRound` belongs to, or null when every stream is finished. */
  inProgress: string | null;
  /** Streams that reached their StageCompleted. */
  streamsFinished: number;
  fellBack: number;
  fingerprint: string;
  /** Each stream: its events, last complete round, whether it is finished, its fallbacks. */
  streamProgress: Array<{ stream: string; events: number; lastRound: number | null; finished: boolean; fellBack: number }>;
}

/**
 * A run's last complete round, told truthfully: a run interrupted in round 12 of a condition is at
 * round 12 of it, even when another condition reached round 30.
 */
export function lastRoundOf(streams: ReadonlyArray<Pick<StreamProgress, 'name' | 'lastRound' | 'lastType'>>): { lastRound: number | null; inProgress: string | null } {
  const unfinished = streams.filter((s) => s.lastType !== 'StageCompleted');
  if (unfinished.length === 0) {
    const rounds = streams.flatMap((s) => (s.lastRound === null ? [] : [s.lastRound]));
    return { lastRound: rounds.length === 0 ? null : Math.max(...rounds), inProgress: null };
  }
  // The least advanced of those under way (with a complete round); else the first unfinished one, at no round yet.
  const under = unfinished.filter((s) => s.lastRound !== null);
  if (under.length === 0) return { lastRound: null, inProgress: unfinished[0].name };
  const least = under.reduce((a, b) => (b.lastRound! < a.lastRound! ? b : a));
  return { lastRound: least.lastRound, inProgress: least.name };
}

/** The runs of a store with what `sim runs` shows of each. */
export async function listRuns(store: EventStore): Promise<RunSummary[]> {
  return (await listRunsWithStreams(store)).map((r) => r.summary);
}

/** The runs of a store, each with its summary and its streams' progress (heads and last events, for the head check). */
export async function listRunsWithStreams(store: EventStore): Promise<Array<{ summary: RunSummary; streams: StreamProgress[] }>> {
  const out: Array<{ summary: RunSummary; streams: StreamProgress[] }> = [];
  const runs = await store.listRunRows();
  // Heads and index lookups only, every run in one query: a store of millions of events lists in milliseconds.
  const byRun = new Map<number, StreamProgress[]>(runs.map((r) => [r.id, []]));
  for (const s of await store.runProgress(runs.map((r) => r.id))) byRun.get(s.runId)?.push(s);
  for (const run of runs) {
    const streams = byRun.get(run.id)!;
    // A run left "running" with no live holder of its lease was killed: it is interrupted.
    const status: RunStatus = run.status === 'running' && !(await store.currentLease(run.id)) ? 'interrupted' : run.status;
    const summary: RunSummary = {
      id: run.id,
      seed: run.seed,
      status,
      createdAt: run.createdAt,
      events: streams.reduce((sum, s) => sum + s.position, 0),
      streams: streams.length,
      ...lastRoundOf(streams),
      streamsFinished: streams.filter((s) => s.lastType === 'StageCompleted').length,
      fellBack: streams.reduce((sum, s) => sum + s.fellBack, 0),
      fingerprint: fingerprintOf(streams),
      streamProgress: streams.map((s) => ({ stream: s.name, events: s.position, lastRound: s.lastRound, finished: s.lastType === 'StageCompleted', fellBack: s.fellBack })),
    };
    out.push({ summary, streams });
  }
  return out;
}
