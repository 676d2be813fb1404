import { parseExperiment, type ExperimentConfig } from '../domain/config.js';
import { UsageError } from '../errors.js';
import { findApiKey, PLACEHOLDER_KEY } from '../llm/api-key.js';
import { recordBaseUrls, type LlmFlags } from './llm.js';
import { withOfflineParams } from './offline-params.js';
import { checkBaseUrl, checkRunMemory, parseWithFlags, readConfigInput } from './run-checks.js';

/** What `sim run` is asked: a config file, the settings that override it, and how to run it. */
export interface RunOptions extends LlmFlags {
  config?: string;
  out: string;
  /** The store (src/api/store.ts): a file, sqlite:PATH or postgres://...; default SIM_STORE, else <out>/sim.db. */
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
  offlineParams?: string;
  /** The spending cap in USD (recorded as llm.max_cost_usd). */
  maxCost?: number;
  /** Spend what the estimate says without asking (a run that calls a paid LLM; see ./spend.ts). */
  yes?: boolean;
}

/** Lines for the user that are not results (a default taken, a warning); the CLI writes them to stderr. */
export type Notice = (line: string) => void;

/**
 * Resolves the experiment: defaults, then the config file, then the options. Every problem is
 * listed. `notice` hears the one default worth saying (which decides the provider), once the
 * experiment is valid.
 *
 * The provider is the offline persona model unless an LLM is asked for: `--provider openai`, a
 * `--base-url`, or a config file's "provider". An API key in the environment (or OPENAI_API_KEY.env)
 * alone never switches an LLM on: it is said to be there and not used.
 */
export function resolveConfig(options: RunOptions, notice: Notice = () => undefined): ExperimentConfig {
  let input: Record<string, unknown> = {};
  let source = 'flags';
  if (options.config) {
    source = options.config;
    input = readConfigInput(options.config);
  }
  const base = parseExperiment(input, source);
  const merged: ExperimentConfig = structuredClone(base);
  if (options.nUsers !== undefined) merged.n_users = options.nUsers;
  if (options.seed !== undefined) merged.seed = options.seed;
  if (options.treatmentSeed !== undefined) merged.treatment_seed = options.treatmentSeed;
  if (options.conditions !== undefined) merged.run_conditions = options.conditions.split(',').map((c) => c.trim()).filter(Boolean);
  if (options.feedLength !== undefined) merged.feed.length = options.feedLength;
  if (options.numContents !== undefined) merged.content.initial_posts = options.numContents;
  if (options.topic !== undefined) merged.topic = options.topic;
  if (options.usersDir !== undefined) merged.users_dir = options.usersDir;
  if (options.warmupOnly) merged.warmup_only = true;
  if (options.maxCost !== undefined) merged.llm.max_cost_usd = options.maxCost;
  let said: string | null = null;
  if (options.provider !== undefined) {
    if (options.provider !== 'offline' && options.provider !== 'openai') throw new UsageError(`--provider: unknown provider "${options.provider}" (use offline or openai)`);
    merged.provider = options.provider;
  } else if (options.baseUrl && options.baseUrl.length > 0) {
    // A server named on the command line is an LLM asked for.
    merged.provider = 'openai';
  } else if (!options.config || !('provider' in input)) {
    merged.provider = 'offline';
    said = offlineDefaultNotice();
  }
  // OPENAI_BASE_URL is checked under its own name; --base-url values were checked as they were parsed
  // and a config's base_url/llm.endpoints by the config parser.
  if (!options.baseUrl && process.env.OPENAI_BASE_URL) checkBaseUrl(process.env.OPENAI_BASE_URL, { flag: 'OPENAI_BASE_URL' });
  const baseUrls = options.baseUrl ?? (process.env.OPENAI_BASE_URL ? [process.env.OPENAI_BASE_URL] : []);
  recordBaseUrls(merged, baseUrls);
  const config = withOfflineParams(parseWithFlags(merged, options.config ? `${options.config} with flags` : 'flags'), options.offlineParams);
  // A size no heap can hold is refused now, not after minutes of filling memory.
  checkRunMemory(config, options);
  // Said once the experiment is valid: a refused command prints its problem, not this.
  if (said) notice(said);
  return config;
}

/** What a run that took the offline model by default says about the API key it found, or did not. */
function offlineDefaultNotice(): string {
  const key = findApiKey(process.env, process.cwd());
  if (key.key) return `sim: ${key.source} holds an API key, not used: offline model (--provider openai for the LLM)`;
  if (key.placeholder) return `sim: ${key.placeholder} holds the example's placeholder ${PLACEHOLDER_KEY}, not a key: using the offline persona model`;
  return 'sim: no OpenAI API key found (OPENAI_API_KEY or OPENAI_API_KEY.env): using the offline persona model, not an LLM';
}
