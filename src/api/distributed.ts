import { hostname } from 'node:os';
import { conditionRuns, parseExperiment, WARMUP_STREAM, type ExperimentConfig } from '../domain/config.js';
import { StoreUnavailableError, UsageError } from '../errors.js';
import { DEFAULT_TAKEOVER_SECONDS, JobQueue, takeoverTimes, type FetchedJob } from '../queue/queue.js';
import { SharedEndpointPools } from '../llm/endpoint-pool.js';
import { loadPopulation } from '../sim/population.js';
import { runComplete } from '../sim/run-status.js';
import type { EventStore } from '../sim/store.js';
import { StreamMemory } from '../sim/stream-memory.js';
import { CODE_VERSION } from '../version.js';
import { DEFAULT_OUT } from './defaults.js';
import type { WorkerEvent } from './worker-events.js';
import { WorkerLog } from './worker-log.js';
import { resolveConfig, type Notice, type RunOptions } from './config.js';
import { classifyFailure, runSlice, type SliceContext, type SliceOutcome } from './job-slice.js';
import { runSliceInThread } from './job-thread.js';
import type { LlmFlags } from './llm.js';
import { checkProviderReady } from './provider.js';
import { confirmSpending, spendEstimate, type SpendHooks } from './spend.js';
import { adoptWarmupConfig, checkFolderFlag, readConfigInput } from './run-checks.js';
import { findWarmup } from './run.js';
import { openStoreFor, postgresOnly, storeLocation, type StoreFlags } from './store.js';

/**
 * Runs spread over worker processes and machines that share one PostgreSQL store (docs/distributed.md).
 * `submitRun` records a run and enqueues its warmup; `runWorker` takes jobs, each (run, stream):
 * continue the stream from its last complete round for a bounded slice, then re-enqueue it (or, at the
 * warmup's end, enqueue one job per condition). Double execution (a job taken over from a worker that
 * was only slow) is harmless: the store's expected-position appends refuse the second appender, which
 * drops the job.
 */

export interface SubmitOptions extends RunOptions {
  /** A dead worker's job is taken over within this many seconds (default 60, at least 20). */
  takeover?: number;
}

/**
 * `sim submit`: checks the run as `sim run` does, records it and enqueues its warmup (or, with
 * --from-warmup, its conditions, which fork from that recorded warmup); returns at once.
 */
export async function submitRun(options: SubmitOptions, notice: Notice = () => undefined, spend: SpendHooks = {}): Promise<{ runId: number; store: string }> {
  const location = postgresOnly(options, 'sim submit');
  const takeover = options.takeover ?? DEFAULT_TAKEOVER_SECONDS;
  // What resolving says is said once every check has passed (a refused command prints only its problem).
  const held: string[] = [];
  let config = resolveConfig(options, (line) => held.push(line));
  checkProviderReady(config, options.cacheOnly);
  checkFolderFlag('--users-dir', options.usersDir, true, 'profiles.csv and network.csv');
  // The population is validated whole before anything is written (workers load it again from users_dir);
  // a run from a recorded warmup takes its users from that warmup's events.
  const population = options.fromWarmup === undefined ? loadPopulation(config) : null;
  for (const line of held) notice(line);
  // A run that would spend money is submitted only when asked to (the workers never ask).
  if (population) await confirmSpending(spendEstimate(config, population.personas), options, spend);
  const store = await openStoreFor(options);
  try {
    if (options.fromWarmup !== undefined) {
      const warmup = await findWarmup(store, options.fromWarmup);
      const input = options.config ? readConfigInput(options.config) : null;
      const recorded = parseExperiment((await store.getRun(warmup.runId)).config, `run ${warmup.runId} config`);
      config = { ...adoptWarmupConfig(config, options, input, options.config, { runId: warmup.runId, config: recorded }), from_warmup: warmup.stream };
      await confirmSpending(spendEstimate(config, []), options, spend);
    }
    const runId = await submitConfig(store, config, takeover);
    return { runId, store: location.display };
  } finally {
    await store.close();
  }
}

/** Records a resolved config as a new run and enqueues its warmup job (its condition jobs when it starts from a recorded warmup). */
export async function submitConfig(store: EventStore, config: ExperimentConfig, takeover: number): Promise<number> {
  const queue = await JobQueue.open(store.handoff().location);
  try {
    const runId = await store.createRun({ seed: config.seed, config, codeVersion: CODE_VERSION, createdAt: new Date().toISOString(), status: 'running' });
    const first = config.from_warmup ? conditionRuns(config).map((c) => c.stream) : [WARMUP_STREAM];
    await queue.enqueue(first.map((stream) => ({ runId, stream, takeover })));
    return runId;
  } finally {
    await queue.close();
  }
}

export interface WorkerOptions extends StoreFlags, LlmFlags {
  /** Jobs executed at a time (default 1). */
  jobs?: number;
  /** How this worker is named in `sim status` (default host:pid). */
  name?: string;
  concurrency?: number;
  /** The takeover bound this worker's maintenance passes serve (default 60 s; see takeoverTimes). */
  takeover?: number;
}

export type { WorkerEvent } from './worker-events.js';

export interface WorkerHooks {
  onEvent?: (event: WorkerEvent) => void;
  /** Subscribes to a request to stop (Ctrl-C, SIGTERM); returns the unsubscribe. */
  onStopRequest?: (stop: () => void) => () => void;
}

/** A job slot that lost the store asks again after 1 s, then 2, 4, ... up to 30 s. */
const STORE_RETRY_FIRST_MS = 1000;
const STORE_RETRY_LAST_MS = 30_000;

/** Waits `ms`, or less: until the signal aborts or `wake` (added to `sleepers` meanwhile) is called. */
const sleep = (ms: number, signal: AbortSignal, sleepers: Set<() => void>) =>
  new Promise<void>((resolve) => {
    const wake = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', wake);
      sleepers.delete(wake);
      resolve();
    };
    const timer = setTimeout(wake, ms);
    signal.addEventListener('abort', wake, { once: true });
    sleepers.add(wake);
  });

/**
 * `sim worker`: takes jobs and executes them, `jobs` at a time, until asked to stop. An offline job
 * runs in a worker thread of its own (one per job running, so `--jobs N` uses N cores); an LLM job
 * runs on this thread, sharing the endpoint pools. A stop ends each job at the next round boundary
 * (the round in progress is recorded whole or not at all) and re-enqueues it, so another worker
 * takes it at once; every thread has ended and every connection is closed when this returns.
 */
export async function runWorker(options: WorkerOptions, hooks: WorkerHooks = {}): Promise<void> {
  postgresOnly(options, 'sim worker');
  const name = options.name ?? `${hostname()}:${process.pid}`;
  const slots = options.jobs ?? 1;
  const store = await openStoreFor(options);
  // Workers run pg-boss's maintenance (expiring the jobs of dead workers); its own lock makes one pass at a time.
  const times = takeoverTimes(options.takeover ?? DEFAULT_TAKEOVER_SECONDS);
  const queue = await JobQueue.open(store.handoff().location, { supervise: true, maintenanceSeconds: times.maintenanceSeconds });
  const stop = new AbortController();
  // LLM jobs of this process share one limit (--concurrency), rate limiter and breaker per endpoint.
  const pools = new SharedEndpointPools();
  const unsubscribe = hooks.onStopRequest?.(() => stop.abort()) ?? (() => undefined);
  const log = new WorkerLog(options.out ?? DEFAULT_OUT, name);
  const tell = (event: WorkerEvent) => {
    log.event(event);
    hooks.onEvent?.(event);
  };
  tell({ kind: 'started', name, jobs: slots });
  try {
    // Idle slots wait for the next poll; a job that ends may have enqueued others (a warmup its
    // conditions), so it wakes them to look at once.
    const sleepers = new Set<() => void>();
    await Promise.all(
      Array.from({ length: slots }, async () => {
        // What this slot's last slice left (a slot often takes its own re-enqueued job straight back).
        const memory = new StreamMemory();
        let pause = STORE_RETRY_FIRST_MS;
        while (!stop.signal.aborted) {
          try {
            const job = await queue.fetch(name);
            if (!job) {
              await sleep(times.pollMs, stop.signal, sleepers);
              continue;
            }
            await executeJob(store, queue, job, { ...options, pools, threads: true }, stop.signal, tell, memory);
            pause = STORE_RETRY_FIRST_MS;
          } catch (error) {
            if (!(error instanceof StoreUnavailableError)) throw error;
            // The store's server went away (a restart, a failover). A job in hand was failed to be
            // retried if the store could still be told, else it expires and is taken over (by this
            // worker too); its rounds are whole or absent. This slot asks again, backing off.
            memory.forgetAllBut([]);
            tell({ kind: 'store-lost', reason: error.message, retrySeconds: pause / 1000 });
            await sleep(pause, stop.signal, sleepers);
            pause = Math.min(pause * 2, STORE_RETRY_LAST_MS);
            continue;
          }
          for (const wake of [...sleepers]) wake();
        }
      }),
    );
  } finally {
    unsubscribe();
    pools.close();
    await queue.close();
    await store.close();
  }
}

/**
 * Executes one job's slice and settles it with the queue. Never throws for the job's own failure.
 * With `threads`, an offline job runs in a worker thread of its own (./job-thread.ts), so a worker's
 * offline jobs use as many cores as it runs jobs; LLM jobs run here, sharing the endpoint pools.
 * Either way the outcome is settled here: only the main thread speaks to the queue.
 */
export async function executeJob(store: EventStore, queue: JobQueue, job: FetchedJob, flags: LlmFlags & { concurrency?: number; pools?: SharedEndpointPools; threads?: boolean }, stop: AbortSignal, tell: (event: WorkerEvent) => void, memory?: StreamMemory): Promise<void> {
  const { runId, stream } = job.data;
  const context: SliceContext = {
    stop,
    memory,
    sliceMs: takeoverTimes(job.data.takeover).sliceMs,
    started: async (fromRound, thread) => {
      await queue.noteStart(job.id, fromRound);
      tell({ kind: 'job', runId, stream, fromRound, thread: thread ?? null });
    },
    onProgress: (progress, stats) => tell({ kind: 'progress', runId, progress, stats }),
  };
  let outcome: SliceOutcome;
  try {
    const config = parseExperiment((await store.getRun(runId)).config, `run ${runId} config`);
    const inThread = flags.threads && config.provider === 'offline';
    // A job thread folds its stream itself: what the slot remembers is of no use to it.
    if (inThread) memory?.forgetAllBut([]);
    outcome = inThread ? await runSliceInThread(store.handoff(), config, job.data, flags, context) : await runSlice(store, config, job.data, flags, context);
    if (outcome.kind === 'done') {
      if (!(await queue.completeAndEnqueue(job.id, outcome.next))) {
        tell({ kind: 'dropped', runId, stream, reason: 'the job was taken over by another worker meanwhile' });
        return;
      }
      const runFinished = await runComplete(store, runId, config);
      if (runFinished) await store.setRunStatus(runId, 'finished');
      tell({ kind: 'done', runId, stream, runFinished, next: outcome.next.map((j) => j.stream) });
      return;
    }
  } catch (error) {
    outcome = classifyFailure(error, false);
  }
  if (outcome.kind === 'interrupted') {
    // A slice's end or a stop: continue in a new job (this worker's or another's).
    if (await queue.completeAndEnqueue(job.id, [job.data])) tell({ kind: stop.aborted ? 'released' : 'sliced', runId, stream, round: outcome.round });
    else tell({ kind: 'dropped', runId, stream, reason: 'the job was taken over by another worker meanwhile' });
  } else if (outcome.kind === 'capped') {
    // The run's spending cap: the job ends here, neither retried nor failed; the run waits for `sim resume --max-cost MORE`.
    await queue.completeAndEnqueue(job.id, []);
    await store.setRunStatus(runId, 'interrupted').catch(() => undefined);
    tell({ kind: 'capped', runId, stream, round: outcome.round, reason: outcome.message });
  } else if (outcome.kind === 'conflict') {
    // Another worker executes this stream too (it took the job over from this one, believed dead).
    tell({ kind: 'dropped', runId, stream, reason: outcome.message });
  } else if (outcome.kind === 'failed' && outcome.permanent) {
    await queue.failPermanent(job.id, outcome.message);
    await store.setRunStatus(runId, 'failed').catch(() => undefined);
    tell({ kind: 'failed', runId, stream, permanent: true, reason: outcome.message });
  } else if (outcome.kind === 'failed') {
    await queue.failTransient(job.id, outcome.message);
    tell({ kind: 'failed', runId, stream, permanent: false, reason: outcome.message });
  }
}

export { queueStatus, roundsPerSecond, type RunJobsStatus, type StreamStatus } from './status.js';
export { DEFAULT_TAKEOVER_SECONDS };
export { isPermanent } from './job-slice.js';
