import { conditionRuns, mainStartRound, storedStreamPlan, WARMUP_STREAM, type StreamPlan } from '../domain/stream-plan.js';
import type { StreamProgress } from '../events/port.js';
import type { JobRow } from '../queue/queue.js';
import { readJobs } from '../queue/job-table.js';
import { openStoreWithRuns, postgresOnly, type StoreFlags } from './store.js';

/** One stream's job state for `sim status`. */
export interface StreamStatus {
  stream: string;
  state: 'queued' | 'running' | 'done' | 'failed' | 'waiting';
  worker: string | null;
  since: string | null;
  /** The stream's last complete round (null: none yet). */
  round: number | null;
  /** Running: the last complete round when the job started (null: none), and rounds completed per second since. */
  fromRound: number | null;
  roundsPerSecond: number | null;
  /** Times the stream's job was started (0: it never ran; a job waiting for its first worker has made no attempt). */
  attempts: number;
  reason: string | null;
}

export interface RunJobsStatus {
  runId: number;
  status: string;
  seed: number;
  createdAt: string;
  /** A job of the run is running or queued. */
  live: boolean;
  streams: StreamStatus[];
}

/**
 * Rounds completed per second by a running job: from `fromRound` (the last complete round when it
 * started) to `round` (the last complete round now), over the time since `startedAt` (both times in
 * the database server's clock). Null before a second has passed.
 */
export function roundsPerSecond(fromRound: number, round: number, startedAt: string, now: string): number | null {
  const seconds = (Date.parse(now) - Date.parse(startedAt)) / 1000;
  if (!(seconds >= 1)) return null;
  return Math.max(0, round - fromRound) / seconds;
}

/**
 * How many times a job was started: none while it waits for its first worker (created); else one
 * more than its retry count (pg-boss counts a retry when the job starts again, so a job waiting for
 * its retry after three failed starts has a retry count of 2).
 */
export function jobAttempts(job: Pick<JobRow, 'state' | 'retryCount'>): number {
  return job.state === 'created' ? 0 : job.retryCount + 1;
}

/**
 * `sim status`: every run of the store (in id order) with the state of its streams' jobs. Reads the
 * streams' heads and indexes (never a scan of their events) and the queue's job table.
 */
export async function queueStatus(flags: StoreFlags): Promise<RunJobsStatus[]> {
  const location = postgresOnly(flags, 'sim status');
  // The job table is read on a connection of its own, opened while the store's is (their set-ups overlap).
  const [opened, read] = await Promise.allSettled([openStoreWithRuns(flags), readJobs(location.url, location.display)]);
  if (opened.status === 'rejected') throw opened.reason;
  const store = opened.value;
  try {
    if (read.status === 'rejected') throw read.reason;
    const { jobs, now } = read.value;
    const byStream = new Map<string, JobRow[]>();
    for (const job of jobs) {
      const key = `${job.runId}/${job.stream}`;
      byStream.set(key, [...(byStream.get(key) ?? []), job]);
    }
    const out: RunJobsStatus[] = [];
    const rows = await store.listRunRows();
    // Every run's streams in one query (heads and index lookups).
    const progressOf = new Map<string, StreamProgress>();
    for (const p of await store.runProgress(rows.map((r) => r.id))) progressOf.set(`${p.runId}/${p.name}`, p);
    for (const run of rows) {
      // The stored config names the streams; only one recorded before a field existed needs the schema (zod).
      const config: StreamPlan = storedStreamPlan(run.config) ?? (await import('../domain/config.js')).parseExperiment(run.config, `run ${run.id} config`);
      // A run from another run's recorded warmup has no warmup stream of its own.
      const names = [...(config.from_warmup ? [] : [WARMUP_STREAM]), ...(config.warmup_only ? [] : conditionRuns(config).map((c) => c.stream))];
      const progress = { get: (name: string) => progressOf.get(`${run.id}/${name}`) };
      const streams: StreamStatus[] = [];
      for (const name of names) {
        const mine = byStream.get(`${run.id}/${name}`) ?? [];
        const live = mine.filter((j) => j.state === 'active' || j.state === 'created' || j.state === 'retry');
        const failed = mine.filter((j) => j.state === 'failed');
        const finished = progress.get(name)?.lastType === 'StageCompleted';
        const last = live.find((j) => j.state === 'active') ?? live[0] ?? failed.at(-1) ?? null;
        const state: StreamStatus['state'] = finished ? 'done' : live.some((j) => j.state === 'active') ? 'running' : live.length > 0 ? 'queued' : failed.length > 0 ? 'failed' : 'waiting';
        const round = progress.get(name)?.lastRound ?? null;
        const started = state === 'running' && last?.startedOn && last.output && 'fromRound' in last.output ? { at: last.startedOn, round: last.output.fromRound ?? null } : null;
        const firstRound = name === WARMUP_STREAM ? config.warmup.start_round : mainStartRound(config);
        streams.push({
          stream: name,
          state,
          worker: state === 'running' ? (last?.output?.worker ?? null) : null,
          since: state === 'running' ? (last?.startedOn ?? null) : state === 'queued' ? (last?.createdOn ?? null) : null,
          round,
          fromRound: started ? started.round : null,
          roundsPerSecond: started ? roundsPerSecond(started.round ?? firstRound - 1, round ?? firstRound - 1, started.at, now) : null,
          attempts: Math.max(0, ...mine.map(jobAttempts)),
          // A failed job's reason; for a job waiting to be retried, the reason of its last failure.
          reason: state === 'failed' || (state === 'queued' && last?.state === 'retry') ? (last?.output?.message ?? last?.output?.value?.message ?? null) : null,
        });
      }
      const live = streams.some((s) => s.state === 'running' || s.state === 'queued');
      // A run left "running" with no job in the queue and no process holding its lease was stopped (killed): interrupted, as `sim runs` says.
      const status = run.status === 'running' && !live && !(await store.currentLease(run.id)) ? 'interrupted' : run.status;
      out.push({ runId: run.id, status, seed: run.seed, createdAt: run.createdAt, live, streams });
    }
    return out;
  } finally {
    await store.close();
  }
}
