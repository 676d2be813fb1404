import { parseExperiment, roundsInRun, WARMUP_STREAM } from '../domain/config.js';
import { withRunLease } from '../events/leases.js';
import { streamId } from '../events/stream-ids.js';
import { LlmCache } from '../llm/cache.js';
import { loadPopulation } from '../sim/population.js';
import type { EventStore } from '../sim/store.js';
import { roundsRecorded, runComplete } from '../sim/run-status.js';
import type { Notice } from './config.js';
import { checkEndpoints, maxFallbackRate, type LlmFlags } from './llm.js';
import { chooseProvider } from './provider.js';
import { executeRun, type RunHooks, type RunResult } from './run.js';
import { openStoreWithRuns, selectRun } from './runs.js';
import { checkFolderToWriteInto } from '../write-whole.js';

export interface ResumeOptions extends LlmFlags {
  /** The run id (default: the latest run). */
  run?: string;
  out: string;
  /** The store (src/api/store.ts): a file, sqlite:PATH or postgres://...; default SIM_STORE, else <out>/sim.db. */
  store?: string;
  concurrency?: number;
  /** The spending cap in USD for the run's total spend (default: the one recorded with the run, llm.max_cost_usd). */
  maxCost?: number;
}

/** A run that was finished already (nothing to do), or the summary of the rounds run now. */
export type ResumeResult = { alreadyFinished: true; runId: number; fingerprint: string } | ({ alreadyFinished: false } & RunResult);

/** `sim resume`: continues a run from its last complete round (the cache answers what was already paid for). */
export async function resumeRun(options: ResumeOptions, hooks: RunHooks = {}): Promise<ResumeResult> {
  const notice = hooks.notice ?? (() => undefined);
  // The run's log goes to --out whichever store is used.
  checkFolderToWriteInto(options.out, { flag: '--out', path: options.out });
  const store = await openStoreWithRuns(options);
  try {
    const runId = await selectRun(store, options.run);
    // Before anything is told or written: a run another live process executes is refused here.
    return await withRunLease(store, runId, () => resumeLeased(store, runId, options, notice, hooks));
  } finally {
    await store.close();
  }
}

async function resumeLeased(store: EventStore, runId: number, options: ResumeOptions, notice: Notice, hooks: RunHooks): Promise<ResumeResult> {
  const run = await store.getRun(runId);
  const config = parseExperiment(run.config, `run ${runId} config`);
  if (await runComplete(store, runId, config)) {
    if (run.status !== 'finished') await store.setRunStatus(runId, 'finished');
    return { alreadyFinished: true, runId, fingerprint: await store.fingerprint(runId) };
  }
  // Only a run killed before its first batch needs the user files again; otherwise the
  // population is in the log.
  const needsPopulation = !config.from_warmup && (await store.head(streamId(runId, WARMUP_STREAM))).position === 0;
  // Endpoints are not part of the run's identity: --base-url points it at another server.
  await checkEndpoints(config, options, notice);
  if (config.provider === 'openai') {
    const unanswered = await new LlmCache(store).countUnanswered();
    if (unanswered > 0) notice(`sim: ${unanswered} cached request${unanswered === 1 ? ' was' : 's were'} never answered (transport failures stored by an older sim): asked again`);
  }
  const provider = chooseProvider(config, { store, concurrency: options.concurrency, llm: options });
  try {
    const done = await roundsRecorded(store, runId);
    notice(`sim: resuming run ${runId} after ${done} of ${roundsInRun(config)} rounds`);
    const population = needsPopulation ? loadPopulation(config) : null;
    const result = await executeRun({ store, runId, config, provider, population, out: options.out, roundsAlreadyDone: done, maxFallbackRate: maxFallbackRate(options), maxCostUsd: options.maxCost ?? config.llm.max_cost_usd, leaseHeld: true }, hooks);
    return { alreadyFinished: false, ...result };
  } finally {
    await provider.close?.();
  }
}
