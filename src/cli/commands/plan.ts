import type { Command } from 'commander';
import { planStudy, type PlanOptions, type PlanResult } from '../../api/plan.js';
import type { Design } from '../../report/plan.js';
import type { NoiseModel } from '../../domain/power.js';
import { UsageError } from '../../errors.js';
import { DEFAULT_OUT, integerFlag } from '../options.js';
import { printTable } from '../table.js';
import { notice } from '../notice.js';

interface PlanFlags extends PlanOptions {
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
    .requiredOption('--effect <d>', 'the effect to detect, in the metric\'s units (likelihood 0-4 points; turnout as a share, 0.03 = 3 points); negative for a decrease, which the two-sided test detects as well as the same increase', numberFlag('--effect', (x) => x !== 0, 'a non-zero number'))
    .option('--power <p>', 'target power', numberFlag('--power', (x) => x > 0 && x < 1, 'a probability between 0 and 1'), 0.8)
    .option('--alpha <a>', 'two-sided test level', numberFlag('--alpha', (x) => x > 0 && x < 1, 'a probability between 0 and 1'), 0.05)
    .option('--metric <m>', 'likelihood (final stated likelihood) or turnout (voted, users 18+)', 'likelihood')
    .option('--conditions <list>', 'conditions compared with control', 'treatment_soc_message')
    .option('--pilot <runs...>', 'recorded runs (LLM or offline) in --out to take the variances from; several seeds also give the between-seed variance')
    .option('--pilot-users <n>', 'without --pilot: users of the offline pilot run plan makes', integerFlag('--pilot-users', 100), 1000)
    .option('--out <dir>', 'output directory holding the pilot runs', DEFAULT_OUT)
    .option('--config <file>', 'experiment config (models, prices, population) for costs and offline runs')
    .option('--users-dir <dir>', 'population folder (default: the bundled users_data/)')
    .option('--check <k>', 'run the recommended paired design offline K times and print its empirical power', integerFlag('--check', 1))
    .option('--workers <n>', 'threads for --check (default: the cores of this machine)', integerFlag('--workers', 1))
    .option('--json', 'print the designs (and with --check the planned and empirical power) as JSON')
    .action(async (flags: PlanFlags) => {
      // The --check progress line (a terminal only) is cleared before the next line is said.
      let last = 0;
      let progressShown = false;
      const plan = await planStudy(flags, {
        notice: (line) => {
          if (progressShown) process.stderr.write('\r\x1b[K');
          progressShown = false;
          notice(`sim plan: ${line}`);
        },
        onCheckProgress: (done, total) => {
          if (process.stderr.isTTY && Date.now() - last > 500) {
            last = Date.now();
            progressShown = true;
            process.stderr.write(`\rsim plan: ${done}/${total} runs`);
          }
        },
      });
      if (flags.json) {
        const { conditions: _conditions, ...json } = plan;
        process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
        return;
      }
      printPlan(flags, plan);
    });
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/**
 * The between-seed variance as a user can read it: measured, or why it is 0 (one pilot seed measures
 * nothing; several whose effects differ no more than their own sampling error leave nothing to the seed).
 */
export function betweenSeeds(n: NoiseModel): string {
  const seeds = n.seeds ?? 1;
  if (seeds < 2) return 'between-seed variance not measured (one pilot seed; give --pilot runs of 2 or more seeds), taken as 0';
  const g = (x: number) => x.toPrecision(2);
  if (n.tau2 > 0) return `between-seed variance ${g(n.tau2)} (sd ${g(Math.sqrt(n.tau2))}) from ${seeds} pilot seeds`;
  return `between-seed variance 0: the ${seeds} pilot seeds' effects vary (${g(n.between ?? 0)}) no more than their sampling error explains (${g(n.within ?? 0)})${seeds < 5 ? `; ${seeds} seeds say little, 5 or more say more` : ''}`;
}

function printPlan(flags: PlanFlags, plan: PlanResult): void {
  const { metric, conditions, noise, designs, check } = plan;
  const { paired, unpaired } = plan.recommended;
  const out = process.stdout;
  const unit = metric === 'turnout' ? `${(100 * flags.effect).toFixed(1)} turnout points` : `${flags.effect} on the final likelihood (0-4)`;
  // The test is two-sided: a decrease needs the users and seeds the same increase needs.
  const sign = flags.effect < 0 ? ` (a decrease: the two-sided test needs the design +${metric === 'turnout' ? `${(100 * -flags.effect).toFixed(1)} points` : -flags.effect} needs)` : '';
  out.write(`plan: detect an effect of ${unit}${sign} with power ${pct(flags.power)} at level ${flags.alpha} (two-sided, normal approximation)\n`);
  for (const c of conditions) {
    const n = noise[c];
    out.write(`  ${c} vs control: per-user sd ${Math.sqrt(n.pairedVariance).toFixed(3)} paired, ${Math.sqrt(n.unpairedVariance).toFixed(3)} unpaired; ${pct(n.included)} of users have the outcome; ${betweenSeeds(n)}\n`);
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
