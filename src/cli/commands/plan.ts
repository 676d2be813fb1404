import type { Command } from 'commander';
import { availableParallelism } from 'node:os';
import type { ExperimentConfig } from '../../domain/config.js';
import type { NoiseModel } from '../../domain/power.js';
import { tierWeights } from '../../domain/tiers.js';
import { UsageError } from '../../errors.js';
import { readRunData } from '../../export/run-data.js';
import { estimateCost } from '../../llm/estimate.js';
import { buildReport } from '../../report/build.js';
import { crossedUnpaired, designOf, designTable, empiricalPower, noiseFrom, pilotEffect, recommend, type Design, type Metric, type PilotRun, type PlanInput } from '../../report/plan.js';
import { poolSeeds } from '../../report/stats.js';
import { toPersonas } from '../../domain/personas.js';
import { DEFAULT_USERS_DIR, loadUsersDir } from '../../users/load.js';
import { replicate } from '../../sim/replicate.js';
import { replicateInWorkers } from '../../sim/replicate-pool.js';
import { DEFAULT_OUT } from '../options.js';
import { openStoreWithRuns, selectRun } from '../../api/index.js';
import { printTable } from '../table.js';
import { resolveConfig } from '../../api/index.js';
import { integerFlag } from '../options.js';

interface PlanFlags {
  effect: number;
  power: number;
  alpha: number;
  metric: string;
  conditions: string;
  pilot?: string[];
  pilotUsers: number;
  out: string;
  config?: string;
  usersDir?: string;
  check?: number;
  workers?: number;
  json?: boolean;
}

const numberFlag = (flag: string, check: (x: number) => boolean, what: string) => (value: string) => {
  const x = Number(value);
  if (value.trim() === '' || !Number.isFinite(x) || !check(x)) throw new UsageError(`${flag}: "${value}" is not ${what}`);
  return x;
};

export function registerPlan(program: Command): void {
  program
    .command('plan')
    .description('how many users and seeds an effect needs for a given power, and what that costs in LLM calls; --check K verifies by K offline replications')
    .requiredOption('--effect <d>', 'the effect to detect, in the metric\'s units (likelihood 0-4 points; turnout as a share, 0.03 = 3 points)', numberFlag('--effect', (x) => x !== 0, 'a non-zero number'))
    .option('--power <p>', 'target power (default 0.8)', numberFlag('--power', (x) => x > 0 && x < 1, 'a probability between 0 and 1'), 0.8)
    .option('--alpha <a>', 'two-sided test level (default 0.05)', numberFlag('--alpha', (x) => x > 0 && x < 1, 'a probability between 0 and 1'), 0.05)
    .option('--metric <m>', 'likelihood (final stated likelihood) or turnout (voted, users 18+)', 'likelihood')
    .option('--conditions <list>', 'conditions compared with control (default treatment_soc_message)', 'treatment_soc_message')
    .option('--pilot <runs...>', 'recorded runs (LLM or offline) in --out to take the variances from; several seeds also give the between-seed variance')
    .option('--pilot-users <n>', 'without --pilot: users of the offline pilot run plan makes (default 1000)', integerFlag('--pilot-users', 100), 1000)
    .option('--out <dir>', 'output directory holding the pilot runs', DEFAULT_OUT)
    .option('--config <file>', 'experiment config (models, prices, population) for costs and offline runs')
    .option('--users-dir <dir>', 'population folder (default: the bundled users_data/)')
    .option('--check <k>', 'run the recommended paired design offline K times and print its empirical power', integerFlag('--check', 1))
    .option('--workers <n>', 'threads for --check (default: the cores of this machine)', integerFlag('--workers', 1))
    .option('--json', 'print the designs (and with --check the planned and empirical power) as JSON')
    .action(async (flags: PlanFlags) => planCommand(flags));
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

async function planCommand(flags: PlanFlags): Promise<void> {
  if (flags.metric !== 'likelihood' && flags.metric !== 'turnout') throw new UsageError(`--metric: "${flags.metric}" is not likelihood or turnout`);
  const metric = flags.metric as Metric;
  if (metric === 'turnout' && Math.abs(flags.effect) >= 1) throw new UsageError(`--effect: ${flags.effect} is not a turnout difference (a share between -1 and 1, e.g. 0.03)`);
  const conditions = flags.conditions.split(',').map((c) => c.trim()).filter(Boolean);
  if (conditions.length === 0 || conditions.includes('control')) throw new UsageError('--conditions: name the conditions to compare with control (control itself is always run)');
  const say = (line: string) => process.stderr.write(`sim plan: ${line}\n`);

  // Costs are those of LLM runs of the design; offline runs (pilot, --check) use the same config.
  let config: ExperimentConfig = resolveConfig({ out: flags.out, config: flags.config, usersDir: flags.usersDir, provider: 'offline', conditions: ['control', ...conditions].join(',') });
  let pilots: PilotRun[];
  if (flags.pilot) {
    const store = await openStoreWithRuns(flags);
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
    check = await runCheck(config, paired, flags.check, flags.workers ?? availableParallelism(), conditions, metric, atModel, flags.alpha, say);
  }

  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ metric, effect: flags.effect, alpha: flags.alpha, targetPower: flags.power, pilots: pilots.map((p) => ({ seed: p.seed, users: p.users })), noise, recommended: { paired, unpaired }, designs, check }, null, 2)}\n`);
    return;
  }
  printPlan(flags, metric, conditions, noise, designs, paired, unpaired, check);
}

/** Calls, tokens and dollars of one LLM run of n users, from the same model as `sim run --dry-run`. */
function costModel(config: ExperimentConfig, personas: ReadonlyArray<{ age: number; education: string; occupation: string }>): PlanInput['cost'] {
  const shares = { low: 0, mid: 0, high: 0 };
  for (const p of personas) {
    const w = tierWeights(p, config.llm);
    shares.low += w.low / personas.length;
    shares.mid += w.mid / personas.length;
    shares.high += w.high / personas.length;
  }
  const adults = personas.filter((p) => p.age >= 18).length / personas.length;
  return (users) => {
    const e = estimateCost({ ...config, n_users: users, warmup_only: false, from_warmup: null }, shares, adults);
    return { calls: e.calls.total, tokens: Math.round(e.promptTokens + e.completionTokens), costUsd: e.costUsd };
  };
}

interface CheckResult {
  design: { users: number; seeds: number };
  replications: number;
  threads: number;
  seconds: number;
  /** Per condition: the offline model's effect (from the pilot), the power planned against it, and the share of replications that rejected "no effect". */
  conditions: Record<string, { modelEffect: number; planned: { paired: number; unpaired: number }; empirical: { paired: number; unpaired: number } }>;
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
): Promise<CheckResult> {
  // Replication r uses seeds 1000 + r·s .. 1000 + r·s + s - 1: none is the pilot's seed 1.
  const configs: ExperimentConfig[] = [];
  for (let r = 0; r < k; r++) for (let j = 0; j < design.seeds; j++) configs.push({ ...config, n_users: design.users, seed: 1000 + r * design.seeds + j, treatment_seed: null });
  say(`--check: ${k} replications of ${design.users} users x ${design.seeds} seed${design.seeds > 1 ? 's' : ''} (${configs.length} offline runs) in ${threads} worker thread${threads > 1 ? 's' : ''}...`);
  const started = Date.now();
  let last = 0;
  const runs = await replicateInWorkers(configs, threads, (done) => {
    if (process.stderr.isTTY && Date.now() - last > 500) {
      last = Date.now();
      process.stderr.write(`\rsim plan: ${done}/${configs.length} runs`);
    }
  });
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
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

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

function printPlan(flags: PlanFlags, metric: Metric, conditions: string[], noise: Record<string, NoiseModel>, designs: Design[], paired: Design | null, unpaired: Design | null, check: CheckResult | null): void {
  const out = process.stdout;
  const unit = metric === 'turnout' ? `${(100 * flags.effect).toFixed(1)} turnout points` : `${flags.effect} on the final likelihood (0-4)`;
  out.write(`plan: detect an effect of ${unit} with power ${pct(flags.power)} at level ${flags.alpha} (two-sided, normal approximation)\n`);
  for (const c of conditions) {
    const n = noise[c];
    out.write(`  ${c} vs control: per-user sd ${Math.sqrt(n.pairedVariance).toFixed(3)} paired, ${Math.sqrt(n.unpairedVariance).toFixed(3)} unpaired; ${pct(n.included)} of users have the outcome; between-seed variance ${n.tau2.toExponential(2)}\n`);
  }
  out.write('  paired: each user under the condition and under control (a simulation can); unpaired: two samples (what a field experiment has)\n\n');
  const mark = (d: Design) => (paired && d.users === paired.users && d.seeds === paired.seeds ? ' <- paired' : '') + (unpaired && d.users === unpaired.users && d.seeds === unpaired.seeds ? ' <- unpaired' : '');
  printTable(
    ['users', 'seeds', ...conditions.flatMap((c) => [`power paired${conditions.length > 1 ? ` ${c}` : ''}`, `power unpaired${conditions.length > 1 ? ` ${c}` : ''}`]), 'LLM calls', 'tokens', 'cost', ''],
    designs.map((d) => [d.users, d.seeds, ...conditions.flatMap((c) => [pct(d.power[c].paired), pct(d.power[c].unpaired)]), d.calls.toLocaleString('en-US'), d.tokens.toLocaleString('en-US'), `$${d.costUsd.toFixed(2)}`, mark(d)]),
  );
  const line = (name: string, d: Design | null) =>
    d ? `${name}: ${d.users} users x ${d.seeds} seed${d.seeds > 1 ? 's' : ''}, ${d.calls.toLocaleString('en-US')} LLM calls, ~$${d.costUsd.toFixed(2)}\n` : `${name}: none within the population and 10 seeds reaches the target power\n`;
  out.write(`\n${line('recommended, paired', paired)}${line('recommended, unpaired', unpaired)}`);
  out.write('costs: the model of `sim run --dry-run` (config prices, before provider-side prompt caching)\n');
  if (check) {
    out.write(`\ncheck: ${check.replications} offline replications of ${check.design.users} users x ${check.design.seeds} seed(s), ${check.seconds.toFixed(1)}s in ${check.threads} thread(s)\n`);
    for (const [c, r] of Object.entries(check.conditions)) {
      out.write(
        `  ${c}: the offline model's effect is ${r.modelEffect.toFixed(4)} (pilot); planned power against it ${pct(r.planned.paired)} paired (${pct(r.planned.unpaired)} unpaired), empirical ${pct(r.empirical.paired)} paired (${pct(r.empirical.unpaired)} unpaired)\n`,
      );
    }
    out.write(
      '  empirical: the share of replications whose z test of "no effect" rejects (Monte Carlo error about ±4 points at 100); the replications have the\n  offline model\'s effect, not --effect, so they are compared with the power planned at that effect from the same noise model.\n  Unpaired compares the condition of one replication with the control of the next (other users), as a field experiment would.\n',
    );
  }
}
