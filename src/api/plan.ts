import { availableParallelism } from 'node:os';
import type { ExperimentConfig } from '../domain/config.js';
import { toPersonas } from '../domain/personas.js';
import type { NoiseModel } from '../domain/power.js';
import { UsageError } from '../errors.js';
import { readRunData } from '../export/run-data.js';
import { estimateCost } from '../llm/estimate.js';
import { buildReport } from '../report/build.js';
import { crossedUnpaired, designOf, designTable, empiricalPower, noiseFrom, pilotEffect, recommend, type Design, type Metric, type PilotRun, type PlanInput } from '../report/plan.js';
import { poolSeeds } from '../report/stats.js';
import { replicate } from '../sim/replicate.js';
import { replicateInWorkers } from '../sim/replicate-pool.js';
import { DEFAULT_USERS_DIR, loadUsersDir } from '../users/load.js';
import { resolveConfig } from './config.js';
import { estimateRunMemory } from '../domain/memory.js';
import { checkMemory, checkThreadMemory } from './run-checks.js';
import { populationMix } from './estimate.js';
import { openStoreWithRuns, selectRun } from './runs.js';

/** What `sim plan` is asked: the effect to detect, the power and level, and where the variances come from. */
export interface PlanOptions {
  effect: number;
  power: number;
  alpha: number;
  metric: string;
  conditions: string;
  pilot?: string[];
  pilotUsers: number;
  out: string;
  /** The store the pilot runs are in (src/api/store.ts); default SIM_STORE, else <out>/sim.db. */
  store?: string;
  config?: string;
  usersDir?: string;
  check?: number;
  workers?: number;
}

export interface PlanHooks {
  /** What the plan is doing (pilots made, their time, caveats). */
  notice?: (line: string) => void;
  /** Offline runs of --check done so far. */
  onCheckProgress?: (done: number, total: number) => void;
}

/** The designs, their power and cost, the recommended ones and (with --check) the empirical power. */
export interface PlanResult {
  metric: Metric;
  effect: number;
  alpha: number;
  targetPower: number;
  conditions: string[];
  pilots: Array<{ seed: number; users: number }>;
  noise: Record<string, NoiseModel>;
  recommended: { paired: Design | null; unpaired: Design | null };
  designs: Design[];
  check: CheckResult | null;
}

function noiseOf(pilots: readonly PilotRun[], conditions: readonly string[], metric: Metric): Record<string, NoiseModel> {
  const noise: Record<string, NoiseModel> = {};
  for (const c of conditions) {
    const n = noiseFrom(pilots, c, metric);
    if (!n) throw new UsageError(`--conditions: the pilot has no ${metric} effect for ${c} (no users with an outcome under both ${c} and control)`);
    noise[c] = n;
  }
  return noise;
}

/**
 * `sim plan`: how many users and seeds an effect needs for a given power, and what that costs in LLM
 * calls; variances from recorded pilot runs or from offline pilots it makes; `check` verifies the
 * recommended paired design by offline replications.
 */
export async function planStudy(flags: PlanOptions, hooks: PlanHooks = {}): Promise<PlanResult> {
  if (flags.metric !== 'likelihood' && flags.metric !== 'turnout') throw new UsageError(`--metric: "${flags.metric}" is not likelihood or turnout`);
  const metric = flags.metric as Metric;
  if (metric === 'turnout' && Math.abs(flags.effect) >= 1) throw new UsageError(`--effect: ${flags.effect} is not a turnout difference (a share between -1 and 1, e.g. 0.03)`);
  // A mean likelihood is 0-4, so a difference of two is at most 4 either way.
  if (metric === 'likelihood' && Math.abs(flags.effect) > 4) throw new UsageError(`--effect: ${flags.effect} is not a likelihood difference (the scale is 0-4, so between -4 and 4, e.g. 0.2)`);
  const conditions = flags.conditions.split(',').map((c) => c.trim()).filter(Boolean);
  if (conditions.length === 0 || conditions.includes('control')) throw new UsageError('--conditions: name the conditions to compare with control (control itself is always run)');
  const say = hooks.notice ?? (() => undefined);
  // Before any pilot: --check's runs at the fewest seeds a design has.
  if (flags.check !== undefined) checkMemory(flags.check * CHECK_RUN_BYTES, `--check ${flags.check}`, `${flags.check.toLocaleString('en-US')} offline runs would need`, `their configs and figures, about ${CHECK_RUN_BYTES / 1000} KB a run`);

  // Costs are those of LLM runs of the design; offline runs (pilot, --check) use the same config.
  let config: ExperimentConfig = resolveConfig({ out: flags.out, config: flags.config, usersDir: flags.usersDir, provider: 'offline', conditions: ['control', ...conditions].join(',') });
  let pilots: PilotRun[];
  if (flags.pilot) {
    const store = await openStoreWithRuns(flags, 'read');
    try {
      pilots = [];
      for (const arg of flags.pilot) {
        const runId = await selectRun(store, arg, '--pilot');
        const data = await readRunData(store, runId);
        const missing = conditions.filter((c) => !data.conditions.some((x) => x.stream === c));
        if (missing.length > 0 || !data.conditions.some((x) => x.stream === 'control')) {
          throw new UsageError(`--pilot ${arg}: run ${runId} has no ${[...missing, ...(data.conditions.some((x) => x.stream === 'control') ? [] : ['control'])].join(', ')} stream to take variances from`);
        }
        const report = buildReport(data, '', [], null);
        pilots.push({ seed: report.seed, users: report.users, effects: report.effects });
        config = { ...data.config, run_conditions: config.run_conditions, provider: 'offline' };
      }
      say(`variances from pilot run${pilots.length > 1 ? 's' : ''} ${flags.pilot.join(', ')} (${pilots.map((p) => `${p.users} users, seed ${p.seed}`).join('; ')})`);
    } finally {
      await store.close();
    }
  } else {
    const started = Date.now();
    say(`no --pilot: making an offline pilot run of ${flags.pilotUsers} users (seed 1, ${config.run_conditions.join(', ')}) with the offline persona model, not an LLM...`);
    pilots = [await replicate({ ...config, n_users: flags.pilotUsers, seed: 1, treatment_seed: null })];
    say(`pilot done in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  }
  let noise = noiseOf(pilots, conditions, metric);
  const files = loadUsersDir(config.users_dir ?? DEFAULT_USERS_DIR);
  const personas = toPersonas(files.profiles, config);
  let input: PlanInput = { effect: flags.effect, alpha: flags.alpha, power: flags.power, noise, maxUsers: files.profiles.length, cost: costModel(config, personas) };
  let paired = recommend(input, true);
  const pilotUsers = pilots[0].users;
  // Per-user variance (and the model's effect) depend on the network's density, so on the number of
  // users: when the design is much smaller than the pilot, the pilot is redone at the design's size
  // with three seeds (cheap at that size, and they measure the between-seed variance too).
  if (!flags.pilot && paired && paired.users * 2 <= pilotUsers) {
    const started = Date.now();
    say(`the design (${paired.users} users) is much smaller than the pilot: measuring again on 3 offline pilot runs of ${paired.users} users (seeds 1-3)...`);
    pilots = await replicateInWorkers([1, 2, 3].map((seed) => ({ ...config, n_users: paired!.users, seed, treatment_seed: null })), flags.workers ?? availableParallelism());
    say(`pilots done in ${((Date.now() - started) / 1000).toFixed(1)}s`);
    noise = noiseOf(pilots, conditions, metric);
    input = { ...input, noise };
    paired = recommend(input, true);
  } else if (paired && (paired.users * 2 <= pilotUsers || paired.users >= 2 * pilotUsers)) {
    say(`note: the pilot had ${pilotUsers} users and the design has ${paired.users}; per-user variance depends on the network's density, so a pilot near ${paired.users} users is more reliable`);
  }
  if (pilots.length === 1) say('one pilot seed: between-seed variance taken as 0 (give several --pilot runs of different seeds to measure it)');
  const unpaired = recommend(input, false);
  const designs = designTable(input, [paired, unpaired]);

  let check: CheckResult | null = null;
  if (flags.check !== undefined) {
    if (!paired) throw new UsageError('--check: no design reaches the target power (see the table); nothing to check');
    // Offline replications have the offline model's effect, not --effect: the check compares their
    // rejection rate with the power this design has against that effect, with the same noise model.
    const atModel: Record<string, { effect: number; paired: number; unpaired: number }> = {};
    for (const c of conditions) {
      const effect = pilotEffect(pilots, c, metric) ?? 0;
      const d = designOf({ ...input, effect, noise: { [c]: noise[c] } }, paired.users, paired.seeds);
      atModel[c] = { effect, paired: d.power[c].paired, unpaired: d.power[c].unpaired };
    }
    check = await runCheck(config, paired, flags.check, flags.workers ?? availableParallelism(), conditions, metric, atModel, flags.alpha, say, hooks.onCheckProgress);
  }

  return { metric, effect: flags.effect, alpha: flags.alpha, targetPower: flags.power, conditions, pilots: pilots.map((p) => ({ seed: p.seed, users: p.users })), noise, recommended: { paired, unpaired }, designs, check };
}

/** Calls, tokens and dollars of one LLM run of n users, from the same model as `sim run --dry-run`. */
function costModel(config: ExperimentConfig, personas: ReadonlyArray<{ age: number; education: string; occupation: string }>): PlanInput['cost'] {
  const { shares, adults } = populationMix(personas, config);
  return (users) => {
    const e = estimateCost({ ...config, n_users: users, warmup_only: false, from_warmup: null }, shares, adults);
    return { calls: e.calls.total, tokens: Math.round(e.promptTokens + e.completionTokens), costUsd: e.costUsd };
  };
}

export interface CheckResult {
  design: { users: number; seeds: number };
  replications: number;
  threads: number;
  seconds: number;
  /** Per condition: the offline model's effect (from the pilot), the power planned against it, and the share of replications that rejected "no effect". */
  conditions: Record<string, { modelEffect: number; planned: { paired: number; unpaired: number }; empirical: { paired: number; unpaired: number } }>;
}

/** What one --check run keeps until the end: its config and its figures (effects and arms per condition). */
const CHECK_RUN_BYTES = 20_000;

/**
 * --check K runs K x seeds offline runs in threads: refused before they start when their results
 * would not fit the heap, or the threads (each a heap with its own world) the machine.
 */
function checkCheckMemory(k: number, seeds: number, threads: number, config: ExperimentConfig, users: number): void {
  const runs = k * seeds;
  checkMemory(runs * CHECK_RUN_BYTES, `--check ${k}`, `${runs.toLocaleString('en-US')} offline run${runs === 1 ? '' : 's'} would need`, `their configs and figures, about ${CHECK_RUN_BYTES / 1000} KB a run`);
  checkThreadMemory('--workers', threads, Math.min(threads, runs), estimateRunMemory({ ...config, n_users: users }).bytes);
}

async function runCheck(
  config: ExperimentConfig,
  design: Design,
  k: number,
  threads: number,
  conditions: string[],
  metric: Metric,
  atModel: Record<string, { effect: number; paired: number; unpaired: number }>,
  alpha: number,
  say: (line: string) => void,
  onProgress?: (done: number, total: number) => void,
): Promise<CheckResult> {
  checkCheckMemory(k, design.seeds, threads, config, design.users);
  // Replication r uses seeds 1000 + r·s .. 1000 + r·s + s - 1: none is the pilot's seed 1.
  const configs: ExperimentConfig[] = [];
  for (let r = 0; r < k; r++) for (let j = 0; j < design.seeds; j++) configs.push({ ...config, n_users: design.users, seed: 1000 + r * design.seeds + j, treatment_seed: null });
  say(`--check: ${k} replications of ${design.users} users x ${design.seeds} seed${design.seeds > 1 ? 's' : ''} (${configs.length} offline runs) in ${threads} worker thread${threads > 1 ? 's' : ''}...`);
  const started = Date.now();
  const runs = await replicateInWorkers(configs, threads, (done) => onProgress?.(done, configs.length));
  const seconds = (Date.now() - started) / 1000;
  say(`--check took ${seconds.toFixed(1)}s (${(seconds / configs.length).toFixed(2)}s per run of ${design.users} users)`);
  const out: CheckResult['conditions'] = {};
  for (const c of conditions) {
    const byReplication = Array.from({ length: k }, (_, r) => runs.slice(r * design.seeds, (r + 1) * design.seeds));
    const pairedPooled = byReplication.flatMap((seeds) => {
      const p = poolSeeds(
        seeds.flatMap((run) => {
          const v = run.effects.find((x) => x.stream === c)?.paired[metric];
          return v ? [{ estimate: v.estimate, se: v.se }] : [];
        }),
      );
      return p ? [p] : [];
    });
    const arms = byReplication.map((seeds) =>
      seeds.map((run) => ({ condition: run.arms.find((a) => a.stream === c)?.[metric] ?? null, control: run.arms.find((a) => a.stream === 'control')?.[metric] ?? null })),
    );
    out[c] = {
      modelEffect: atModel[c].effect,
      planned: { paired: atModel[c].paired, unpaired: atModel[c].unpaired },
      empirical: { paired: empiricalPower(pairedPooled, alpha), unpaired: empiricalPower(crossedUnpaired(arms), alpha) },
    };
  }
  return { design: { users: design.users, seeds: design.seeds }, replications: k, threads, seconds, conditions: out };
}

