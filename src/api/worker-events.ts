import type { ProviderStats } from '../domain/decision.js';
import type { ProgressEvent } from '../sim/engine-types.js';

/** What a worker tells as it goes (the CLI prints one line each). */
export type WorkerEvent =
  | { kind: 'started'; name: string; jobs: number }
  /** A job started; `thread`: the id of the worker thread it runs in (an offline job), null on the main thread. */
  | { kind: 'job'; runId: number; stream: string; fromRound: number | null; thread: number | null }
  /** A round was appended; `stats`: its job's provider's totals so far (LLM jobs on the main thread). */
  | { kind: 'progress'; runId: number; progress: ProgressEvent; stats?: ProviderStats }
  /** The slice ended; the job was re-enqueued (or, `released`, the worker is stopping). */
  | { kind: 'sliced' | 'released'; runId: number; stream: string; round: number }
  | { kind: 'done'; runId: number; stream: string; runFinished: boolean; next: string[] }
  /** Another worker appended to the stream first: this one drops the job. */
  | { kind: 'dropped'; runId: number; stream: string; reason: string }
  | { kind: 'failed'; runId: number; stream: string; permanent: boolean; reason: string }
  /** The store's server went away (a restart): this job slot asks again after `retrySeconds`. */
  | { kind: 'store-lost'; reason: string; retrySeconds: number }
  /** The run's spending cap was reached before `round`: the job ended (not retried); the run is interrupted. */
  | { kind: 'capped'; runId: number; stream: string; round: number; reason: string };
