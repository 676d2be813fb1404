import { Command, Option } from 'commander';
import { conditionRuns, parseExperiment, roundsInRun, type ExperimentConfig } from '../../domain/config.js';
import { OfflineProvider, offlineParameters } from '../../domain/offline-model.js';
import type { Provider } from '../../domain/decision.js';
import { InterruptedError, LlmUnavailableError, RunNotFoundError, SimError, UsageError } from '../../errors.js';
import { acquireLease, releaseLease } from '../../events/leases.js';
import { EventStore } from '../../sim/store.js';
import { listRuns } from '../../sim/run-catalogue.js';
import { openExistingStoreFor, openStoreFor } from '../store-option.js';
import { streamId } from '../../events/stream-ids.js';
import { conditionSummaries, type ConditionSummary } from '../../projections/queries.js';
import { runExperiment } from '../../sim/engine.js';
import { streamFinished } from '../../sim/run-status.js';
import { WARMUP_STREAM } from '../../domain/config.js';
import { loadPopulation } from '../../sim/population.js';
import { loadApiKey } from '../../llm/api-key.js';
import { LlmCache } from '../../llm/cache.js';
import { CODE_VERSION } from '../../version.js';
import { printEstimate } from './estimate.js';
import { DEFAULT_OUT } from '../program.js';
import { onInterrupt } from '../interrupt.js';
import { adoptWarmupConfig, checkBaseUrl, checkFolderFlag, parseWithFlags, readConfigInput } from '../run-checks.js';
import { offlineParamsOption, withOfflineParams } from '../offline-params-flag.js';
import { ProgressReporter } from '../progress.js';
import { RunLog } from '../run-log.js';
import { addLlmOptions, checkEndpoints, maxFallbackRate, openAiProvider, recordBaseUrls, type LlmFlags } from '../llm-options.js';
import { printTable } from '../table.js';

export interface RunFlags extends LlmFlags {
  config?: string;
  out: string;
  /** --store: see src/cli/store-option.ts */
  store?: string;
  nUsers?: number;
  seed?: number;
  treatmentSeed?: number;
  conditions?: string;
  feedLength?: number;
  numContents?: number;
  topic?: string;
  usersDir?: string;
  provider?: string;
  warmupOnly?: boolean;
  fromWarmup?: string | true;
  workers?: number;
  concurrency?: number;
  cacheOnly?: boolean;
  dryRun?: boolean;
  offlineParams?: string;
}

export const OFFLINE_NOTICE = 'offline persona model: a documented behavioural model, NOT an LLM (docs/offline-model.md)';

export function integerFlag(flag: string, min?: number) {
  return (value: string): number => {
    if (!/^-?\d+$/.test(value.trim())) throw new UsageError(`${flag}: "${value}" is not an integer`);
    const n = Number(value);
    if (min !== undefined && n < min) throw new UsageError(`${flag}: must be at least ${min} (got ${n})`);
    return n;
  };
}

export function registerRun(program: Command): void {
  const command = program
    .command('run')
    .description('run an experiment (default: the reference protocol on 1,000 users, offline)')
    .option('--config <file>', 'experiment config (JSON); flags override it')
    .option('--out <dir>', 'output directory (holds sim.db and logs/)', DEFAULT_OUT)
    .option('--n-users <n>', 'users sampled from the population (default 1000)', integerFlag('--n-users'))
    .option('--seed <n>', 'simulation seed (default 1)', integerFlag('--seed'))
    .option('--treatment-seed <n>', 'treatment assignment seed (default: the simulation seed)', integerFlag('--treatment-seed'))
    .option('--conditions <list>', 'comma-separated conditions to run (default: the five of the reference)')
    .option('--feed-length <n>', 'posts per feed (default 4)', integerFlag('--feed-length'))
    .option('--num-contents <n>', 'initial posts before the warmup (default 20)', integerFlag('--num-contents'))
    .option('--topic <topic>', 'the run topic (default Politics)')
    .option('--users-dir <dir>', 'folder with profiles.csv and network.csv (default: the bundled users_data/)')
    .option('--provider <name>', 'offline | openai (default: openai when an API key is configured, else offline)')
    .option('--concurrency <n>', 'LLM requests in flight (default 32)', integerFlag('--concurrency', 1))
    .option('--cache-only', 'never call the LLM: a request missing from the cache is an error')
    .option('--dry-run', 'estimate calls, tokens and cost, and run nothing')
    .addOption(offlineParamsOption())
    .option('--warmup-only', 'record the warmup only (conditions can fork from it later with --from-warmup)')
    .option('--from-warmup [run]', 'run the conditions from a recorded warmup (a run id; default: the latest finished one)')
    .option('--workers <n>', 'threads for the conditions with the offline model (default: 2 from 5,000 users, else 1); results are identical for any number', integerFlag('--workers', 1));
  // The reference's snake_case flags, so its users' commands keep working.
  const hidden = [
    new Option('--n_users <n>').argParser(integerFlag('--n_users')),
    new Option('--output_dir <dir>'),
    new Option('--num_contents <n>').argParser(integerFlag('--num_contents')),
    new Option('--feed_length <n>').argParser(integerFlag('--feed_length')),
    new Option('--skip_main'),
    new Option('--skip_warmup'),
    new Option('--batch_size <n>').argParser(integerFlag('--batch_size')),
    new Option('--n_cores <n>').argParser(integerFlag('--n_cores', 1)),
  ];
  addLlmOptions(command);
  for (const option of hidden) command.addOption(option.hideHelp());
  command.action(async (raw: Record<string, unknown>) => {
    const flags: RunFlags = {
      ...(raw as unknown as RunFlags),
      out: (raw.output_dir as string | undefined) ?? (raw.out as string),
      nUsers: (raw.nUsers ?? raw.n_users) as number | undefined,
      numContents: (raw.numContents ?? raw.num_contents) as number | undefined,
      feedLength: (raw.feedLength ?? raw.feed_length) as number | undefined,
      warmupOnly: Boolean(raw.warmupOnly ?? raw.skip_main),
      fromWarmup: (raw.fromWarmup ?? (raw.skip_warmup ? true : undefined)) as string | true | undefined,
      concurrency: (raw.concurrency ?? raw.n_cores) as number | undefined,
    };
    if (raw.batch_size !== undefined) {
      process.stderr.write('note: --batch_size is accepted for compatibility; memory is bounded by design (one round in memory at a time)\n');
    }
    await runCommand(flags);
  });
}

/** Resolves the experiment: defaults, then the config file, then flags. Every problem is listed. */
export function resolveConfig(flags: RunFlags): ExperimentConfig {
  let input: Record<string, unknown> = {};
  let source = 'flags';
  if (flags.config) {
    source = flags.config;
    input = readConfigInput(flags.config);
  }
  const base = parseExperiment(input, source);
  const merged: ExperimentConfig = structuredClone(base);
  if (flags.nUsers !== undefined) merged.n_users = flags.nUsers;
  if (flags.seed !== undefined) merged.seed = flags.seed;
  if (flags.treatmentSeed !== undefined) merged.treatment_seed = flags.treatmentSeed;
  if (flags.conditions !== undefined) merged.run_conditions = flags.conditions.split(',').map((c) => c.trim()).filter(Boolean);
  if (flags.feedLength !== undefined) merged.feed.length = flags.feedLength;
  if (flags.numContents !== undefined) merged.content.initial_posts = flags.numContents;
  if (flags.topic !== undefined) merged.topic = flags.topic;
  if (flags.usersDir !== undefined) merged.users_dir = flags.usersDir;
  if (flags.warmupOnly) merged.warmup_only = true;
  if (flags.provider !== undefined) {
    if (flags.provider !== 'offline' && flags.provider !== 'openai') throw new UsageError(`--provider: unknown provider "${flags.provider}" (use offline or openai)`);
    merged.provider = flags.provider;
  } else if (!flags.config || !('provider' in input)) {
    // The default: an LLM when a key is configured, else the offline model (said once, on stderr).
    merged.provider = loadApiKey(process.env, process.cwd()) ? 'openai' : 'offline';
    if (merged.provider === 'offline') process.stderr.write('sim: no OpenAI API key found (OPENAI_API_KEY or OPENAI_API_KEY.env): using the offline persona model, not an LLM\n');
  }
  // OPENAI_BASE_URL is checked under its own name; --base-url values were checked as they were parsed
  // and a config's base_url/llm.endpoints by the config parser.
  if (!flags.baseUrl && process.env.OPENAI_BASE_URL) checkBaseUrl(process.env.OPENAI_BASE_URL, { flag: 'OPENAI_BASE_URL' });
  const baseUrls = flags.baseUrl ?? (process.env.OPENAI_BASE_URL ? [process.env.OPENAI_BASE_URL] : []);
  recordBaseUrls(merged, baseUrls);
  return withOfflineParams(parseWithFlags(merged, flags.config ? `${flags.config} with flags` : 'flags'), flags.offlineParams);
}

export async function runCommand(flags: RunFlags): Promise<void> {
  let config = resolveConfig(flags);
  if (flags.dryRun) {
    printEstimate(config);
    return;
  }
  // Everything that can be checked is checked before the database is created or touched: a refused
  // command writes nothing.
  checkProviderReady(config, flags.cacheOnly);
  checkFolderFlag('--users-dir', flags.usersDir, true, 'profiles.csv and network.csv');
  checkFolderFlag('--out', flags.out, false);
  // A server that refuses connections is reported now, not after minutes of retries.
  if (!flags.cacheOnly) await checkEndpoints(config, {});
  let store: EventStore;
  let population: ReturnType<typeof loadPopulation> | null = null;
  if (flags.fromWarmup !== undefined) {
    const existing = await openExistingStoreFor(flags);
    if (!existing) throw new RunNotFoundError(`--from-warmup: ${flags.out} holds no sim.db, so no recorded warmup (record one with \`sim run --warmup-only --out ${flags.out}\`)`);
    store = existing;
    try {
      const warmup = await findWarmup(store, flags.fromWarmup);
      const input = flags.config ? readConfigInput(flags.config) : null;
      config = { ...adoptWarmupConfig(config, flags, input, flags.config, { runId: warmup.runId, config: parseExperiment((await store.getRun(warmup.runId)).config, `run ${warmup.runId} config`) }), from_warmup: warmup.stream };
    } catch (error) {
      await store.close();
      throw error;
    }
  } else {
    // The population is validated whole before the database is touched: bad input writes nothing.
    population = loadPopulation(config);
    store = await openStoreFor(flags);
  }
  const provider = chooseProvider(config, { store, cacheOnly: flags.cacheOnly, concurrency: flags.concurrency, llm: flags });
  try {
    const runId = await store.createRun({ seed: config.seed, config, codeVersion: CODE_VERSION, createdAt: new Date().toISOString() });
    await executeRun(store, runId, config, provider, population, flags.out, flags.workers, 0, maxFallbackRate(flags));
  } finally {
    await provider.close?.();
    await store.close();
  }
}

export interface ProviderChoice {
  /** The store whose cache the provider reads and writes. */
  store: EventStore;
  /** A cache miss is an error (exact replay). */
  cacheOnly?: boolean;
  concurrency?: number;
  /** Endpoints, outage and fallback limits (not part of the run's identity). */
  llm?: LlmFlags;
}

/** An LLM run needs a key (except a cache-only replay, which makes no request). */
export function checkProviderReady(config: ExperimentConfig, cacheOnly?: boolean): void {
  if (config.provider === 'offline' || cacheOnly) return;
  if (!loadApiKey(process.env, process.cwd())) {
    throw new UsageError('--provider openai: no API key (set OPENAI_API_KEY, or `cp OPENAI_API_KEY.env.example OPENAI_API_KEY.env` and put it there)');
  }
}

export function chooseProvider(config: ExperimentConfig, choice: ProviderChoice): Provider {
  if (config.provider === 'offline') return new OfflineProvider(offlineParameters(config.offline_params));
  checkProviderReady(config, choice.cacheOnly);
  return openAiProvider(config, { cache: new LlmCache(choice.store), cacheOnly: choice.cacheOnly, concurrency: choice.concurrency, llm: choice.llm });
}

async function findWarmup(store: EventStore, from: string | true): Promise<{ runId: number; stream: string }> {
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

/** Runs (or continues) a recorded run to its end with progress, log and summary. Shared with resume. */
export async function executeRun(
  store: EventStore,
  runId: number,
  config: ExperimentConfig,
  provider: Provider,
  population: ReturnType<typeof loadPopulation> | null,
  outDir: string,
  workers?: number,
  roundsAlreadyDone = 0,
  maxFallbackRate?: number,
): Promise<void> {
  const warmupStream = config.from_warmup ?? undefined;
  await acquireLease(store, runId, new Date().toISOString());
  const log = new RunLog(outDir, runId);
  const progress = new ProgressReporter(roundsInRun(config), process.stderr, () => provider.stats?.(), roundsAlreadyDone);
  if (provider.offline) process.stderr.write(`sim: run ${runId} uses the ${OFFLINE_NOTICE}\n`);
  process.stderr.write(`sim: run ${runId}: ${config.n_users} users, seed ${config.seed}, conditions ${config.warmup_only ? '(warmup only)' : conditionRuns(config).map((c) => c.stream).join(', ')}; log ${log.file}\n`);
  log.line(`run=${runId} start provider="${provider.name}" n_users=${config.n_users} seed=${config.seed} code=${CODE_VERSION}`);

  const abort = new AbortController();
  const stopListening = onInterrupt((signal) => {
    const key = signal === 'SIGINT' ? 'Ctrl-C' : signal;
    process.stderr.write(`\nsim: ${signal}: stopping at the next round boundary (the round in progress is recorded whole or not at all${provider.offline ? '' : '; answers received so far are cached'}); ${key} again quits at once\n`);
    abort.abort();
    provider.abort?.();
  });
  const startedAt = Date.now();
  try {
    await runExperiment({
      store,
      provider,
      config,
      runId,
      population,
      warmupStream,
      warmupOnly: config.warmup_only,
      // Worker threads pay a start-up cost that only large populations recover.
      workers: workers ?? (config.n_users >= 5000 ? 2 : 1),
      signal: abort.signal,
      maxFallbackRate,
      onProgress: (p) => {
        progress.update(p);
        log.round(p, provider.stats?.());
      },
    });
    await store.setRunStatus(runId, 'finished');
    log.line(`run=${runId} finished seconds=${((Date.now() - startedAt) / 1000).toFixed(1)}`);
  } catch (error) {
    progress.done();
    // An outage stops the run like Ctrl-C: nothing unanswered was recorded, resume goes on.
    const interrupted = error instanceof SimError && (error.exitCode === 130 || error instanceof LlmUnavailableError);
    await store.setRunStatus(runId, interrupted ? 'interrupted' : 'failed').catch(() => undefined);
    log.line(`run=${runId} ${interrupted ? 'interrupted' : 'failed'}: ${error instanceof Error ? error.message : String(error)}`);
    // Name the command that continues this very run (and folder).
    if (error instanceof InterruptedError) throw new InterruptedError(error.round, error.stream, resumeCommand(runId, outDir));
    throw error;
  } finally {
    stopListening();
    await releaseLease(store, runId).catch(() => undefined);
  }
  progress.done();
  await printSummary(store, runId, provider, (Date.now() - startedAt) / 1000);
}

function resumeCommand(runId: number, outDir: string): string {
  return `sim resume ${runId}${outDir === DEFAULT_OUT ? '' : ` --out ${/^[\w./-]+$/.test(outDir) ? outDir : JSON.stringify(outDir)}`}`;
}

export async function printSummary(store: EventStore, runId: number, provider: Provider | null, seconds: number | null): Promise<void> {
  const summaries = await conditionSummaries(store, runId);
  const fingerprint = await store.fingerprint(runId);
  const [summary] = (await listRuns(store)).filter((r) => r.id === runId);
  const out = process.stdout;
  // The fingerprint on a line of its own: with it the line would not fit 80 columns.
  out.write(`\nrun ${runId} ${summary?.status ?? ''}${seconds !== null ? ` in ${seconds.toFixed(1)}s` : ''}: ${summary?.events ?? 0} events, ${summary?.fellBack ?? 0} decisions fell back\nfingerprint ${fingerprint}\n`);
  if (provider?.offline) out.write(`decisions by the ${OFFLINE_NOTICE}\n`);
  const stats = provider?.stats?.();
  if (stats) out.write(`LLM: ${stats.calls} calls, ${stats.cacheHits} cache hits, ${stats.retries} retries, ${stats.promptTokens + stats.completionTokens} tokens, ~$${stats.costUsd.toFixed(4)}\n`);
  if (summaries.length === 0) {
    out.write('(warmup only: no conditions run)\n\n');
    return;
  }
  out.write('\n');
  printTable(
    ['condition', 'eligible', 'turnout', 'treated', 'turnout treated', 'turnout untreated', 'mean final likelihood', 'effect vs control', 'turnout effect'],
    summaries.map((s: ConditionSummary) => [
      s.stream + (s.finished ? '' : ' (unfinished)'),
      s.eligible,
      pct(s.turnout),
      s.treated,
      pct(s.turnoutTreated),
      pct(s.turnoutUntreated),
      num(s.meanFinalLikelihood),
      signed(s.likelihoodEffect),
      signedPct(s.turnoutEffect),
    ]),
  );
  out.write('\n');
}

const pct = (x: number | null) => (x === null ? '-' : `${(100 * x).toFixed(1)}%`);
const num = (x: number | null) => (x === null ? '-' : x.toFixed(3));
const signed = (x: number | null) => (x === null ? '-' : `${x >= 0 ? '+' : ''}${x.toFixed(3)}`);
const signedPct = (x: number | null) => (x === null ? '-' : `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)} pts`);
