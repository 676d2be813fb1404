import { join } from 'node:path';
import { parseExperiment, type ExperimentConfig } from '../domain/config.js';
import { RunNotFoundError, UsageError } from '../errors.js';
import { describeLocation } from '../events/open-store.js';
import { JobQueue } from '../queue/queue.js';
import { loadPopulation } from '../sim/population.js';
import { resolveConfig, type Notice } from './config.js';
import { writeReport, type ReportOptions, type ReportResult } from './report.js';
import { DEFAULT_TAKEOVER_SECONDS, submitConfig, type SubmitOptions } from './distributed.js';
import { checkProviderReady } from './provider.js';
import { confirmSpending, spendEstimate, type SpendHooks } from './spend.js';
import type { RunEstimate } from './estimate.js';
import { checkFolderFlag, checkMemory, checkRunMemory, memoryLimits, type MemoryLimits } from './run-checks.js';
import { openStoreFor, openStoreWithRuns, storeLocation, type StoreFlags } from './store.js';

/**
 * `sim sweep`: one run per seed x setting combination, submitted to the queue of a PostgreSQL store
 * and recorded under the sweep's name. A setting is a config key (dotted path, e.g.
 * messages.likely_voter_threshold) and a value; `--set` applies to every run, `--grid` makes one run
 * per value. Runs of one seed share the population sample whatever the setting (it is drawn from the
 * seed), so settings compare on the same users.
 */
export interface SweepOptions extends SubmitOptions {
  /** "1-5" or "1,2,7". */
  seeds: string;
  /** key=value, applied to every run. */
  set?: string[];
  /** key=v1,v2,...: one run per value (several --grid: every combination). */
  grid?: string[];
  /** The sweep's name (default sweep-<first run id>). */
  name?: string;
}

export interface SweepRun {
  runId: number;
  seed: number;
  /** The grid values of this run, e.g. "messages.likely_voter_threshold=3" (empty without --grid). */
  setting: string;
}

export function parseSeeds(text: string, limits: MemoryLimits = memoryLimits()): number[] {
  const ranges: Array<[number, number]> = [];
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new UsageError(`--seeds: "${text}" is not a list of seeds (e.g. 1-5 or 1,2,7)`);
    const [from, to] = [Number(m[1]), Number(m[2] ?? m[1])];
    if (!Number.isSafeInteger(to)) throw new UsageError(`--seeds: ${m[2] ?? m[1]} is too large (at most ${Number.MAX_SAFE_INTEGER})`);
    if (to < from) throw new UsageError(`--seeds: "${part}" is an empty range`);
    ranges.push([from, to]);
  }
  // Counted before any is listed: 1-1000000000 is refused, not expanded until the heap is full.
  checkSweepSize(`--seeds ${text}`, ranges.reduce((n, [from, to]) => n + (to - from + 1), 0), limits);
  const seeds: number[] = [];
  const seen = new Set<number>();
  for (const [from, to] of ranges) {
    for (let s = from; s <= to; s++) {
      if (seen.has(s)) continue;
      seen.add(s);
      seeds.push(s);
    }
  }
  if (seeds.length === 0) throw new UsageError('--seeds: no seed given (e.g. 1-5)');
  return seeds;
}

/** What one run of a sweep holds while it is submitted: its config, parsed and recorded. */
const SWEEP_RUN_BYTES = 20_000;

function checkSweepSize(setting: string, runs: number, limits: MemoryLimits): void {
  checkMemory(runs * SWEEP_RUN_BYTES, setting, `${runs.toLocaleString('en-US')} runs would need`, `their configs, about ${SWEEP_RUN_BYTES / 1000} KB a run`, limits);
}

function keyValue(flag: string, text: string): [string, string] {
  const at = text.indexOf('=');
  if (at <= 0 || at === text.length - 1) throw new UsageError(`${flag}: "${text}" is not key=value`);
  return [text.slice(0, at).trim(), text.slice(at + 1).trim()];
}

/** A flag's value as JSON when it reads as JSON (3, true, "x", [..]), else as a string. */
function valueOf(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function setPath(config: Record<string, unknown>, path: string, value: unknown, flag: string): void {
  const keys = path.split('.');
  let node: Record<string, unknown> = config;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) throw new UsageError(`${flag}: "${path}" is not a setting of the experiment config (src/domain/config.ts)`);
    node = next as Record<string, unknown>;
  }
  const last = keys.at(-1)!;
  if (!(last in node)) throw new UsageError(`${flag}: "${path}" is not a setting of the experiment config (src/domain/config.ts)`);
  node[last] = value;
}

/** The configs of a sweep: every seed x grid combination, each validated. */
export function sweepConfigs(base: ExperimentConfig, options: Pick<SweepOptions, 'seeds' | 'set' | 'grid'>, limits: MemoryLimits = memoryLimits()): Array<{ seed: number; setting: string; config: ExperimentConfig }> {
  const seeds = parseSeeds(options.seeds, limits);
  const sets = (options.set ?? []).map((t) => keyValue('--set', t));
  const grid = (options.grid ?? []).map((t) => {
    const [key, values] = keyValue('--grid', t);
    return { key, values: values.split(',').map((v) => v.trim()).filter(Boolean) };
  });
  checkSweepSize(`--seeds ${options.seeds} with --grid`, seeds.length * grid.reduce((n, g) => n * g.values.length, 1), limits);
  let combos: Array<Array<[string, string]>> = [[]];
  for (const g of grid) combos = combos.flatMap((c) => g.values.map((v) => [...c, [g.key, v] as [string, string]]));
  const out: Array<{ seed: number; setting: string; config: ExperimentConfig }> = [];
  for (const combo of combos) {
    for (const seed of seeds) {
      const raw = structuredClone(base) as unknown as Record<string, unknown>;
      for (const [key, value] of sets) setPath(raw, key, valueOf(value), '--set');
      for (const [key, value] of combo) setPath(raw, key, valueOf(value), '--grid');
      raw.seed = seed;
      const setting = combo.map(([k, v]) => `${k}=${v}`).join(',');
      const source = `--set/--grid (${setting || 'base'}, seed ${seed})`;
      const config = parseExperiment(raw, source);
      checkRunMemory(config, {}, limits, `the run of ${setting || 'the base setting'}, seed ${seed},`);
      out.push({ seed, setting, config });
    }
  }
  return out;
}

/** `sim sweep`: submits the sweep's runs; returns its name and runs. */
export async function submitSweep(options: SweepOptions, notice: Notice = () => undefined, spend: SpendHooks = {}): Promise<{ name: string; runs: SweepRun[] }> {
  const location = storeLocation(options);
  if (location.backend !== 'postgres') throw new UsageError(`sim sweep: the store ${describeLocation(location)} is SQLite; give --store postgres://user:pass@host:port/db (or SIM_STORE)`);
  const held: string[] = [];
  const base = resolveConfig(options, (line) => held.push(line));
  checkProviderReady(base, options.cacheOnly);
  checkFolderFlag('--users-dir', options.usersDir, true, 'profiles.csv and network.csv');
  const configs = sweepConfigs(base, options);
  const populations = new Map([...new Set(configs.map((c) => c.seed))].map((seed) => [seed, loadPopulation(configs.find((c) => c.seed === seed)!.config)]));
  for (const line of held) notice(line);
  // The sweep's runs that would spend money, together: one estimate, one question.
  const estimates = configs.map((c) => spendEstimate(c.config, populations.get(c.seed)!.personas)).filter((e): e is RunEstimate => e !== null);
  await confirmSpending(sumEstimates(estimates), options, spend, `these ${configs.length} runs`);
  const store = await openStoreFor(options);
  try {
    const queue = await JobQueue.open(store.handoff().location);
    try {
      if (options.name && (await queue.sweeps()).some((s) => s.name === options.name)) throw new UsageError(`--name: a sweep named "${options.name}" exists already in ${location.display}`);
      const runs: SweepRun[] = [];
      for (const c of configs) runs.push({ runId: await submitConfig(store, c.config, options.takeover ?? DEFAULT_TAKEOVER_SECONDS), seed: c.seed, setting: c.setting });
      const name = options.name ?? `sweep-${runs[0].runId}`;
      await queue.addToSweep(name, runs);
      return { name, runs };
    } finally {
      await queue.close();
    }
  } finally {
    await store.close();
  }
}

/** Every sweep of the store with its runs. */
export async function listSweeps(flags: StoreFlags): Promise<Array<{ name: string; runs: SweepRun[] }>> {
  const location = storeLocation(flags);
  if (location.backend !== 'postgres') return [];
  const store = await openStoreWithRuns(flags, 'read');
  try {
    const queue = await JobQueue.open(store.handoff().location);
    try {
      const rows = await queue.sweeps();
      const names = [...new Set(rows.map((r) => r.name))];
      return names.map((name) => ({ name, runs: rows.filter((r) => r.name === name).map((r) => ({ runId: r.runId, seed: r.seed, setting: r.setting })) }));
    } finally {
      await queue.close();
    }
  } finally {
    await store.close();
  }
}

/** A sweep's runs grouped by setting (each group pools its seeds in `sim report`). */
export async function sweepGroups(flags: StoreFlags, name: string): Promise<Array<{ setting: string; runIds: number[] }>> {
  const sweep = (await listSweeps(flags)).find((s) => s.name === name);
  if (!sweep) throw new RunNotFoundError(`${describeLocation(storeLocation(flags))}: no sweep named "${name}" (sim sweep --list shows them)`);
  const settings = [...new Set(sweep.runs.map((r) => r.setting))];
  return settings.map((setting) => ({ setting, runIds: sweep.runs.filter((r) => r.setting === setting).map((r) => r.runId) }));
}

/**
 * `sim report --sweep NAME`: one report per setting of the sweep, each pooling its seeds, in
 * <to>/<setting> (default <out>/report/<sweep>/<setting>; `base` without --grid).
 */
export async function writeSweepReport(opts: Omit<ReportOptions, 'runs'> & { sweep: string }): Promise<Array<{ setting: string; runIds: number[]; result: ReportResult }>> {
  const groups = await sweepGroups(opts, opts.sweep);
  const root = opts.to ?? join(opts.out, 'report', opts.sweep);
  const out: Array<{ setting: string; runIds: number[]; result: ReportResult }> = [];
  for (const g of groups) {
    const folder = g.setting === '' ? 'base' : g.setting.replace(/[^\w.=,-]/g, '_');
    out.push({ ...g, result: await writeReport({ ...opts, runs: g.runIds.map(String), to: join(root, folder), sweepSetting: { name: opts.sweep, setting: g.setting } }) });
  }
  return out;
}

/** Several runs' estimates as one (null for none): calls, tokens and cost summed, the first run's config. */
function sumEstimates(estimates: RunEstimate[]): RunEstimate | null {
  if (estimates.length === 0) return null;
  const calls = { initialPosts: 0, warmupTurns: 0, conditionTurns: 0, votes: 0, total: 0 };
  const byModel: RunEstimate['byModel'] = {};
  let promptTokens = 0;
  let completionTokens = 0;
  let costUsd = 0;
  for (const e of estimates) {
    for (const k of Object.keys(calls) as Array<keyof typeof calls>) calls[k] += e.calls[k];
    for (const [model, m] of Object.entries(e.byModel)) byModel[model] = { share: m.share, costUsd: (byModel[model]?.costUsd ?? 0) + m.costUsd };
    promptTokens += e.promptTokens;
    completionTokens += e.completionTokens;
    costUsd += e.costUsd;
  }
  return { config: estimates[0].config, calls, byModel, promptTokens, completionTokens, costUsd };
}
