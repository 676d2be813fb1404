import { existsSync, readFileSync, statSync } from 'node:fs';
import { totalmem } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import { parseExperiment, urlProblem, type ExperimentConfig } from '../domain/config.js';
import { estimateRunMemory, type MemoryPart } from '../domain/memory.js';
import { ConfigError, UsageError } from '../errors.js';
import { parseJsonText } from './json-file.js';

/**
 * Checks of `sim run`'s input that need no database: they run before anything is created, so a
 * refused command leaves no sim.db (or anything else) behind.
 */

/** Config keys a `sim run` flag sets, so a problem with the value is reported under the flag the user typed. */
const FLAG_OF_KEY: Array<[key: string, flag: string]> = [
  ['n_users', '--n-users'],
  ['treatment_seed', '--treatment-seed'],
  ['seed', '--seed'],
  ['run_conditions', '--conditions'],
  ['feed.length', '--feed-length'],
  ['content.initial_posts', '--num-contents'],
  ['topic', '--topic'],
  ['users_dir', '--users-dir'],
  ['provider', '--provider'],
];

/**
 * Validates the config with the flags applied. The config file alone was already valid, so what
 * is wrong now came with the flags: a usage error (exit 2) naming each flag, not the config key.
 */
export function parseWithFlags(merged: ExperimentConfig, source: string): ExperimentConfig {
  try {
    return parseExperiment(merged, source);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new UsageError(error.problems.map((p) => renameToFlag(p) ?? `${source}: ${p}`).join('; '));
  }
}

function renameToFlag(problem: string): string | null {
  for (const [key, flag] of FLAG_OF_KEY) {
    if (problem.startsWith(`${key}: `)) return `${flag}: ${problem.slice(key.length + 2)}`;
  }
  return null;
}

/** Where a base URL came from, for the message: a flag, an environment variable or a config file. */
export type BaseUrlSource = { flag: string } | { file: string };

/** An OpenAI-compatible endpoint must be an absolute http(s) URL. */
export function checkBaseUrl(url: string, source: BaseUrlSource): void {
  const problem = urlProblem(url);
  if (problem === null) return;
  if ('flag' in source) throw new UsageError(`${source.flag}: ${problem}`);
  throw new ConfigError(source.file, [`base_url: ${problem}`]);
}

/** A `--config` file's content (not yet validated): the file named, its line and column on bad JSON. */
export function readConfigInput(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`--config ${file}: cannot read (${(error as NodeJS.ErrnoException).code ?? error})`, { file });
  }
  const input = parseJsonText(text, file);
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new ConfigError(file, ['(root): must be a JSON object ({...})']);
  return input as Record<string, unknown>;
}

/**
 * The settings a run started from a recorded warmup shares with it: the population and everything
 * that shaped the warmup's end state. The rest (conditions, their periods, messages, treatment seed,
 * provider) belongs to the conditions and may differ.
 */
const WARMUP_KEYS = ['n_users', 'seed', 'users_dir', 'topic', 'warmup', 'feed', 'ranking', 'content', 'activity', 'llm.temperature', 'llm.tier_probabilities', 'llm.tier_multipliers', 'llm.models', 'offline_params'] as const;

/** Which flag sets which of the WARMUP_KEYS (or a part of it). */
const WARMUP_FLAGS: Array<[key: (typeof WARMUP_KEYS)[number], flag: string, given: (f: RunFlagValues) => unknown]> = [
  ['n_users', '--n-users', (f) => f.nUsers],
  ['seed', '--seed', (f) => f.seed],
  ['users_dir', '--users-dir', (f) => f.usersDir],
  ['topic', '--topic', (f) => f.topic],
  ['feed', '--feed-length', (f) => f.feedLength],
  ['content', '--num-contents', (f) => f.numContents],
  ['offline_params', '--offline-params', (f) => f.offlineParams],
];

/** The flags of `sim run` that this module reads. */
export interface RunFlagValues {
  offlineParams?: string;
  nUsers?: number;
  seed?: number;
  usersDir?: string;
  topic?: string;
  feedLength?: number;
  numContents?: number;
  warmupOnly?: boolean;
}

/**
 * The config of a run forked from another run's warmup: the warmup's values for WARMUP_KEYS (so what
 * is printed, stored and reported is what was simulated), the asked values for the rest. A flag or
 * config key that asks for another value of a WARMUP_KEYS setting is refused, listing each conflict.
 */
export function adoptWarmupConfig(
  asked: ExperimentConfig,
  flags: RunFlagValues,
  configInput: Record<string, unknown> | null,
  configFile: string | undefined,
  warmup: { runId: number; config: ExperimentConfig },
): ExperimentConfig {
  if (flags.warmupOnly) throw new UsageError(`--warmup-only and --from-warmup conflict: run ${warmup.runId}'s warmup is recorded already`);
  const conflicts: string[] = [];
  for (const key of WARMUP_KEYS) {
    const recorded = valueAt(warmup.config, key);
    if (canonical(valueAt(asked, key)) === canonical(recorded)) continue;
    for (const [flagKey, flag, given] of WARMUP_FLAGS) {
      if (flagKey === key && given(flags) !== undefined) conflicts.push(`${flag} ${given(flags)}`);
    }
    if (configInput && valueAt(configInput, key) !== undefined) conflicts.push(`${configFile}: ${key}`);
  }
  if (conflicts.length > 0) {
    const recorded = WARMUP_KEYS.filter((k) => !k.includes('.') && typeof valueAt(warmup.config, k) !== 'object').map((k) => `${k} ${JSON.stringify(valueAt(warmup.config, k))}`);
    throw new UsageError(
      `--from-warmup: run ${warmup.runId}'s warmup was recorded with other settings (${recorded.join(', ')}); these conflict with it: ${conflicts.join(', ')} (drop them, or record a new warmup)`,
    );
  }
  const adopted = structuredClone(asked) as unknown as Record<string, unknown>;
  for (const key of WARMUP_KEYS) setAt(adopted, key, structuredClone(valueAt(warmup.config, key)));
  return parseExperiment(adopted, `run ${warmup.runId}'s warmup config`);
}

function valueAt(object: unknown, path: string): unknown {
  let value: unknown = object;
  for (const part of path.split('.')) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

function setAt(object: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let target = object;
  for (const part of parts.slice(0, -1)) target = target[part] as Record<string, unknown>;
  target[parts[parts.length - 1]] = value;
}

function canonical(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) => (typeof v === 'object' && v !== null && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v)) ?? 'undefined';
}

/** A folder named by a flag must be one (a missing --users-dir is a usage error, like a missing --config). */
export function checkFolderFlag(flag: string, dir: string | undefined, mustExist: boolean, holds?: string): void {
  if (dir === undefined) return;
  if (!existsSync(dir)) {
    if (mustExist) throw new UsageError(`${flag} ${dir}: no such folder${holds ? ` (it should hold ${holds})` : ''}`, { flag, file: dir });
    return;
  }
  if (!statSync(dir).isDirectory()) throw new UsageError(`${flag} ${dir}: is a file, not a folder`, { flag, file: dir });
}

/** The memory this process may use: V8's heap limit (raised by NODE_OPTIONS=--max-old-space-size) and the machine's. */
export interface MemoryLimits {
  heapBytes: number;
  machineBytes: number;
}

export function memoryLimits(): MemoryLimits {
  return { heapBytes: getHeapStatistics().heap_size_limit, machineBytes: totalmem() };
}

const gb = (bytes: number) => {
  const digits = bytes < 100 * 2 ** 30 ? 1 : 0;
  return `${(bytes / 2 ** 30).toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })} GB`;
};

/**
 * Refuses a run whose settings need more memory than the heap can hold (src/domain/memory.ts), before
 * anything is written: one line naming the setting that drives the estimate (its flag when the user
 * typed one), the estimate, the limit and how to raise it when the machine has the memory.
 */
export function checkRunMemory(config: ExperimentConfig, flags: RunFlagValues = {}, limits: MemoryLimits = memoryLimits(), source = 'the run'): void {
  const estimate = estimateRunMemory(config);
  checkMemory(estimate.bytes, settingOf(estimate.parts[0], config, flags), `${source} would need`, estimate.parts[0].detail, limits);
}

/** Refuses `bytes` over the heap limit: "SETTING: WHO would need about X GB of memory (DETAIL), more than ...". */
export function checkMemory(bytes: number, setting: string, who: string, detail: string, limits: MemoryLimits = memoryLimits()): void {
  if (bytes <= limits.heapBytes) return;
  const what = `${setting}: ${who} about ${gb(bytes)} of memory (${detail})`;
  if (bytes > limits.machineBytes) throw new UsageError(`${what}, more than this machine has (${gb(limits.machineBytes)}); use a smaller value`);
  const mb = Math.ceil((bytes * 1.25) / 2 ** 20 / 1000) * 1000;
  throw new UsageError(`${what}, more than Node's heap limit (${gb(limits.heapBytes)}); use a smaller value, or raise the limit: NODE_OPTIONS=--max-old-space-size=${mb} (MB; this machine has ${gb(limits.machineBytes)})`);
}

/**
 * Refuses more threads than the machine's memory holds: each worker thread is a heap of its own
 * holding its own copy of the world (`perThreadBytes`), so `threads` of them need that many times
 * it. Only the threads that would start count (`sim run` starts at most one per condition stream).
 */
export function checkThreadMemory(flag: string, asked: number | undefined, started: number, perThreadBytes: number, limits: MemoryLimits = memoryLimits()): void {
  if (asked === undefined) return;
  const bytes = started * perThreadBytes;
  if (bytes <= limits.machineBytes) return;
  const most = Math.max(1, Math.floor(limits.machineBytes / perThreadBytes));
  throw new UsageError(`${flag} ${asked}: ${started} threads would need about ${gb(bytes)} of memory (each holds its own world, about ${gb(perThreadBytes)}), more than this machine has (${gb(limits.machineBytes)}); use at most ${most}`);
}

/** The flag or config key (with its value) a user would change to shrink a part. */
function settingOf(part: MemoryPart, c: ExperimentConfig, flags: RunFlagValues): string {
  switch (part.key) {
    case 'n_users':
      return flags.nUsers !== undefined ? `--n-users ${flags.nUsers}` : `n_users ${c.n_users}`;
    case 'content.initial_posts':
      return flags.numContents !== undefined ? `--num-contents ${flags.numContents}` : `content.initial_posts ${c.content.initial_posts}`;
    case 'n_runs':
      return `n_runs ${c.n_runs}`;
    case 'rounds':
      return `warmup ${c.warmup.start_round}..${c.warmup.end_round} and time_points up to ${c.time_points[c.time_points.length - 1]}`;
  }
}
