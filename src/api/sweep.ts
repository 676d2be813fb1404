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
import { checkFolderFlag } from './run-checks.js';
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

export function parseSeeds(text: string): number[] {
  const seeds: number[] = [];
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new UsageError(`--seeds: "${text}" is not a list of seeds (e.g. 1-5 or 1,2,7)`);
    const [from, to] = [Number(m[1]), Number(m[2] ?? m[1])];
    if (to < from) throw new UsageError(`--seeds: "${part}" is an empty range`);
    for (let s = from; s <= to; s++) if (!seeds.includes(s)) seeds.push(s);
  }
  if (seeds.length === 0) throw new UsageError('--seeds: no seed given (e.g. 1-5)');
  return seeds;
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
export function sweepConfigs(base: ExperimentConfig, options: Pick<SweepOptions, 'seeds' | 'set' | 'grid'>): Array<{ seed: number; setting: string; config: ExperimentConfig }> {
  const seeds = parseSeeds(options.seeds);
  const sets = (options.set ?? []).map((t) => keyValue('--set', t));
  const grid = (options.grid ?? []).map((t) => {
    const [key, values] = keyValue('--grid', t);
    return { key, values: values.split(',').map((v) => v.trim()).filter(Boolean) };
  });
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
      out.push({ seed, setting, config: parseExperiment(raw, `--set/--grid (${setting || 'base'}, seed ${seed})`) });
    }
  }
  return out;
}

/** `sim sweep`: submits the sweep's runs; returns its name and runs. */
export async function submitSweep(options: SweepOptions, notice: Notice = () => undefined): Promise<{ name: string; runs: SweepRun[] }> {
  const location = storeLocation(options);
  if (location.backend !== 'postgres') throw new UsageError(`sim sweep: the store ${describeLocation(location)} is SQLite; give --store postgres://user:pass@host:port/db (or SIM_STORE)`);
  const base = resolveConfig(options, notice);
  checkProviderReady(base, options.cacheOnly);
  checkFolderFlag('--users-dir', options.usersDir, true, 'profiles.csv and network.csv');
  const configs = sweepConfigs(base, options);
  for (const seed of new Set(configs.map((c) => c.seed))) loadPopulation(configs.find((c) => c.seed === seed)!.config);
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
    out.push({ ...g, result: await writeReport({ ...opts, runs: g.runIds.map(String), to: join(root, folder) }) });
  }
  return out;
}
