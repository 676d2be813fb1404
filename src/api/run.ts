import { parseExperiment, roundsInRun, WARMUP_STREAM, type ExperimentConfig } from '../domain/config.js';
import type { Provider, ProviderStats } from '../domain/decision.js';
import { CostCapError, InterruptedError, LlmUnavailableError, RunNotFoundError, StoreFullError, StoreUnavailableError, UsageError } from '../errors.js';
import { withRunLease } from '../events/leases.js';
import { EventStore } from '../sim/store.js';
import { listRuns } from '../sim/run-catalogue.js';
import { openExistingStoreFor, openStoreFor, storeName } from './store.js';
import { streamId } from '../events/stream-ids.js';
import { conditionSummaries, type ConditionSummary } from '../projections/queries.js';
import { runExperiment, type Population, type ProgressEvent } from '../sim/engine.js';
import { loadPopulation } from '../sim/population.js';
import { streamFinished } from '../sim/run-status.js';
import { CODE_VERSION } from '../version.js';
import { resolveConfig, type Notice, type RunOptions } from './config.js';
import { DEFAULT_OUT } from './defaults.js';
import { checkEndpoints, maxFallbackRate } from './llm.js';
import { checkProviderReady, chooseProvider } from './provider.js';
import { adoptWarmupConfig, checkFolderFlag, checkThreadMemory, readConfigInput } from './run-checks.js';
import { estimateRunMemory, streamCount } from '../domain/memory.js';
import { RunLog } from './run-log.js';
import { capForRest, confirmSpending, SpendMeter, spendEstimate, type SpendHooks } from './spend.js';
import { checkFolderToWriteInto } from '../write-whole.js';

export type { Population, ProgressEvent };

/** What a run is about to do, told before its first round (the CLI prints it and starts its progress line). */
export interface RunStart {
  runId: number;
  config: ExperimentConfig;
  /** The run's log file under <out>/logs/ (null for an exact replay, which keeps none). */
  logFile: string | null;
  /** Decisions come from the offline persona model, not an LLM. */
  offline: boolean;
  /** Rounds in the whole run, and those recorded before this process started (a resume). */
  roundsTotal: number;
  roundsDone: number;
  /** The provider's counters now (calls, cache hits, cost), when it keeps any. */
  stats: () => ProviderStats | undefined;
}

/**
 * How a caller follows a run. The API never prints: it tells. Every hook is optional; a script that
 * wants only the result passes none.
 */
export interface RunHooks extends SpendHooks {
  /** A line for the user that is not a result (a default taken, a warning, what is being resumed). */
  notice?: Notice;
  onStart?: (start: RunStart) => void;
  /** After each recorded round (and election), with the provider's counters. */
  onProgress?: (progress: ProgressEvent, stats: ProviderStats | undefined) => void;
  /**
   * Subscribes to a request to stop (Ctrl-C), for as long as rounds run; returns the unsubscribe.
   * A stop ends the run at the next round boundary with an InterruptedError.
   */
  onStopRequest?: (stop: () => void) => () => void;
}

/** A run at its end: what `sim run` prints under the progress line. */
export interface RunResult {
  runId: number;
  status: string | null;
  /** Wall time of this process's part of the run (null when nothing was run now). */
  seconds: number | null;
  events: number;
  fellBack: number;
  fingerprint: string;
  offline: boolean;
  stats: ProviderStats | undefined;
  /** One row per condition run (empty for a warmup-only run). */
  conditions: ConditionSummary[];
}

export const OFFLINE_NOTICE = 'offline persona model: a documented behavioural model, NOT an LLM (docs/offline-model.md)';

/**
 * `sim run`: resolves the experiment, checks everything that can be checked before anything is
 * written, records a new run (or forks one from a recorded warmup) and runs it to its end.
 */
export async function startRun(options: RunOptions, hooks: RunHooks = {}): Promise<RunResult> {
  const out = options.out ?? DEFAULT_OUT;
  // What resolving says (the provider taken) is said once every check has passed: a refused command prints only its problem.
  const held: string[] = [];
  let config = resolveConfig(options, (line) => held.push(line));
  // A refused command writes nothing: no database is created or touched before these pass.
  checkThreadMemory('--workers', options.workers, Math.min(options.workers ?? 1, Math.max(1, streamCount(config))), estimateRunMemory(config).bytes);
  checkProviderReady(config, options.cacheOnly);
  checkFolderFlag('--users-dir', options.usersDir, true, 'profiles.csv and network.csv');
  checkFolderFlag('--out', out, false);
  // The run's log goes there whichever store is used: a folder that cannot be written is refused now.
  checkFolderToWriteInto(out, { flag: '--out', path: out });
  // A server that refuses connections is reported now, not after minutes of retries.
  if (!options.cacheOnly) await checkEndpoints(config, {}, hooks.notice ?? (() => undefined));
  const tellHeld = () => held.splice(0).forEach((line) => hooks.notice?.(line));
  let store: EventStore;
  let population: Population | null = null;
  if (options.fromWarmup !== undefined) {
    const existing = await openExistingStoreFor({ out, store: options.store });
    if (!existing) {
      const flags = { out, store: options.store };
      const where = options.store === undefined && !process.env.SIM_STORE ? `${out} holds no sim.db` : `${storeName(flags)} holds no sim store yet`;
      const record = options.store === undefined && !process.env.SIM_STORE ? `--out ${out}` : '--store ...';
      throw new RunNotFoundError(`--from-warmup: ${where}, so no recorded warmup (record one with \`sim run --warmup-only ${record}\`)`);
    }
    store = existing;
    try {
      const warmup = await findWarmup(store, options.fromWarmup);
      const input = options.config ? readConfigInput(options.config) : null;
      config = { ...adoptWarmupConfig(config, options, input, options.config, { runId: warmup.runId, config: parseExperiment((await store.getRun(warmup.runId)).config, `run ${warmup.runId} config`) }), from_warmup: warmup.stream };
      tellHeld();
      await confirmSpending(spendEstimate(config, []), options, hooks);
    } catch (error) {
      await store.close();
      throw error;
    }
  } else {
    // The population is validated whole before the database is touched: bad input writes nothing.
    population = loadPopulation(config);
    await confirmSpending(spendEstimate(config, population.personas), options, hooks);
    store = await openStoreFor({ out, store: options.store });
    tellHeld();
  }
  const provider = chooseProvider(config, { store, cacheOnly: options.cacheOnly, concurrency: options.concurrency, llm: options });
  try {
    const runId = await store.createRun({ seed: config.seed, config, codeVersion: CODE_VERSION, createdAt: new Date().toISOString() });
    return await executeRun({ store, runId, config, provider, population, out, workers: options.workers, maxFallbackRate: maxFallbackRate(options), maxCostUsd: config.llm.max_cost_usd }, hooks);
  } finally {
    await provider.close?.();
    await store.close();
  }
}

/** A new run of a resolved config, for scripts and benchmarks (no flags: nothing to check against them). */
export interface RecordRunOptions {
  /** The output folder (sim.db and logs/), created if needed. */
  out: string;
  /** The store (src/api/store.ts): a file, sqlite:PATH or postgres://...; default SIM_STORE, else <out>/sim.db. */
  store?: string;
  config: ExperimentConfig;
  /** The users (default: loaded as `sim run` loads them, from the config's users_dir). */
  population?: Population;
  /** The provider, given the store whose cache it may use (default: the one the config names); closed by the caller. */
  provider?: (store: EventStore) => Provider;
  workers?: number;
  codeVersion?: string;
}

/** Records a new run of `config` in `out` and runs it to its end; returns its summary. */
export async function recordRun(options: RecordRunOptions, hooks: RunHooks = {}): Promise<RunResult> {
  const { config, out } = options;
  const population = options.population ?? loadPopulation(config);
  const store = await openStoreFor({ out, store: options.store });
  const provider = options.provider?.(store) ?? chooseProvider(config, { store });
  try {
    const runId = await store.createRun({ seed: config.seed, config, codeVersion: options.codeVersion ?? CODE_VERSION, createdAt: new Date().toISOString() });
    return await executeRun({ store, runId, config, provider, population, out, workers: options.workers, maxCostUsd: config.llm.max_cost_usd }, hooks);
  } finally {
    if (!options.provider) await provider.close?.();
    await store.close();
  }
}

export async function findWarmup(store: EventStore, from: string | true): Promise<{ runId: number; stream: string }> {
  if (from === true) {
    const runs = await store.listRunRows();
    for (const run of runs.reverse()) {
      const id = streamId(run.id, WARMUP_STREAM);
      if (await streamFinished(store, id)) return { runId: run.id, stream: id };
    }
    throw new RunNotFoundError(`${store.location}: no run with a finished warmup to start from (record one with --warmup-only)`);
  }
  const runId = Number(from);
  if (!Number.isInteger(runId) || runId < 1) throw new UsageError(`--from-warmup: "${from}" is not a run id`);
  await store.getRun(runId);
  const id = streamId(runId, WARMUP_STREAM);
  if (!(await streamFinished(store, id))) throw new RunNotFoundError(`${store.location}: run ${runId} has no finished warmup`);
  return { runId, stream: id };
}

/** A recorded run to execute (or continue) to its end. */
interface Execution {
  store: EventStore;
  runId: number;
  config: ExperimentConfig;
  provider: Provider;
  /** The users, when the warmup's population is not recorded yet. */
  population: Population | null;
  /** The output folder (its logs/ gets the run log). */
  out: string;
  workers?: number;
  /** Rounds recorded before this process started (a resume). */
  roundsAlreadyDone?: number;
  maxFallbackRate?: number;
  /** The caller holds the run's lease already (withRunLease around more than this); else it is taken here. */
  leaseHeld?: boolean;
  /** The spending cap in USD for the run's total (./spend.ts); null or absent: none (the spend is still recorded). */
  maxCostUsd?: number | null;
}

/**
 * Runs (or continues) a recorded run to its end with its log; returns its summary. Shared by run,
 * resume and replay. The run's lease is held throughout: a run another live process executes is
 * refused (RunBusyError) before anything is told or written.
 */
export async function executeRun(run: Execution, hooks: RunHooks = {}): Promise<RunResult> {
  if (!run.leaseHeld) return withRunLease(run.store, run.runId, () => executeRun({ ...run, leaseHeld: true }, hooks));
  const { store, runId, config, provider, out } = run;
  const warmupStream = config.from_warmup ?? undefined;
  const log = new RunLog(out, runId);
  hooks.onStart?.({ runId, config, logFile: log.file, offline: Boolean(provider.offline), roundsTotal: roundsInRun(config), roundsDone: run.roundsAlreadyDone ?? 0, stats: () => provider.stats?.() });
  log.line(`run=${runId} start provider="${provider.name}" n_users=${config.n_users} seed=${config.seed} code=${CODE_VERSION}`);

  const abort = new AbortController();
  const stopListening =
    hooks.onStopRequest?.(() => {
      abort.abort();
      provider.abort?.();
    }) ?? (() => undefined);
  // What an LLM run spends is added up in the store, and held against the cap if there is one.
  const meter = provider.costBound ? new SpendMeter(store, runId, config, provider, run.maxCostUsd ?? null) : null;
  const startedAt = Date.now();
  try {
    await runExperiment({
      store,
      provider,
      config,
      runId,
      population: run.population,
      warmupStream,
      warmupOnly: config.warmup_only,
      // Worker threads pay a start-up cost that only large populations recover.
      workers: run.workers ?? (config.n_users >= 5000 ? 2 : 1),
      signal: abort.signal,
      maxFallbackRate: run.maxFallbackRate,
      beforeDecide: meter?.beforeDecide,
      onProgress: (p) => {
        const stats = provider.stats?.();
        hooks.onProgress?.(p, stats);
        log.round(p, stats);
      },
    });
    await store.setRunStatus(runId, 'finished');
    log.line(`run=${runId} finished seconds=${((Date.now() - startedAt) / 1000).toFixed(1)}`);
  } catch (error) {
    // An outage (of the LLM's server or the store's), a full disk or the spending cap stops the run
    // like Ctrl-C: nothing unanswered was recorded, nothing half-written; resume goes on.
    const interrupted = error instanceof InterruptedError || error instanceof LlmUnavailableError || error instanceof StoreUnavailableError || error instanceof StoreFullError || error instanceof CostCapError;
    await meter?.settle().catch(() => undefined);
    await store.setRunStatus(runId, interrupted ? 'interrupted' : 'failed').catch(() => undefined);
    log.line(`run=${runId} ${interrupted ? 'interrupted' : 'failed'}: ${error instanceof Error ? error.message : String(error)}`);
    // Name the command that continues this very run (and folder).
    if (error instanceof InterruptedError) throw new InterruptedError(error.round, error.stream, resumeCommand(runId, out));
    if (error instanceof StoreUnavailableError) throw new StoreUnavailableError(error.detail, resumeCommand(runId, out), { cause: error.cause });
    if (error instanceof StoreFullError) throw new StoreFullError(error.detail, resumeCommand(runId, out));
    if (error instanceof CostCapError) {
      throw new CostCapError(error.round, error.stream, error.spentUsd, error.capUsd, error.restUsd, `${resumeCommand(runId, out)} --max-cost ${capForRest(error.spentUsd, error.restUsd)}`);
    }
    throw error;
  } finally {
    await meter?.settle().catch(() => undefined);
    stopListening();
  }
  return runResult(store, runId, provider, (Date.now() - startedAt) / 1000);
}

function resumeCommand(runId: number, outDir: string): string {
  return `sim resume ${runId}${outDir === DEFAULT_OUT ? '' : ` --out ${/^[\w./-]+$/.test(outDir) ? outDir : JSON.stringify(outDir)}`}`;
}

/** A recorded run's summary: status, counts, fingerprint and each condition's figures. */
async function runResult(store: EventStore, runId: number, provider: Provider | null, seconds: number | null): Promise<RunResult> {
  const conditions = await conditionSummaries(store, runId);
  const fingerprint = await store.fingerprint(runId);
  const [summary] = (await listRuns(store)).filter((r) => r.id === runId);
  return {
    runId,
    status: summary?.status ?? null,
    seconds,
    events: summary?.events ?? 0,
    fellBack: summary?.fellBack ?? 0,
    fingerprint,
    offline: Boolean(provider?.offline),
    stats: provider?.stats?.(),
    conditions,
  };
}
