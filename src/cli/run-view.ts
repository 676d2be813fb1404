import { type RunEstimate } from '../api/estimate.js';
import type { SpendHooks } from '../api/spend.js';
import { formatUsd } from '../errors.js';
import { OFFLINE_NOTICE, type RunHooks, type RunResult, type RunStart } from '../api/run.js';
import { conditionRuns } from '../domain/config.js';
import type { ConditionSummary } from '../projections/queries.js';
import { createInterface } from 'node:readline';
import { onInterrupt } from './interrupt.js';
import { ProgressReporter } from './progress.js';
import { printTable } from './table.js';
import { notice } from './notice.js';

/**
 * How run, resume and replay show a run: notices and the run's first lines on stderr, the progress
 * line, the Ctrl-C message, and (printSummary) the summary on stdout. `hooks` go to the API;
 * `done()` ends the progress line whatever happened.
 */
export class RunView {
  private progress: ProgressReporter | null = null;
  private offline = false;
  private storeNamed = false;

  /**
   * `store` names the store the command writes (src/api/store.ts storeLine), read when first
   * printed: before the run's first line, or (storeFirst: run, resume, replay) before the first
   * notice. `sim run` tells its notices about the configuration (the API key) only once its input
   * has passed every check, so naming the store first adds no line to a refusal.
   */
  constructor(
    private readonly store: (() => string) | null = null,
    private readonly storeFirst = false,
  ) {}

  readonly hooks: RunHooks = {
    notice: (line) => {
      this.progress?.done();
      if (this.storeFirst) this.nameStore();
      notice(line);
    },
    onStart: (start) => this.start(start),
    onSpendEstimate: (estimate) => process.stderr.write(`${spendLine(estimate)}\n`),
    confirmSpend: (estimate) => confirmOnTerminal(estimate),
    onProgress: (p) => this.progress?.update(p),
    onStopRequest: (stop) =>
      onInterrupt((signal) => {
        const key = signal === 'SIGINT' ? 'Ctrl-C' : signal;
        process.stderr.write('\n');
        notice(`sim: ${signal}: stopping at the next round boundary (the round in progress is recorded whole or not at all${this.offline ? '' : '; answers received so far are cached'}); ${key} again quits at once`);
        stop();
      }),
  };

  private nameStore(): void {
    if (this.storeNamed || !this.store) return;
    this.storeNamed = true;
    process.stderr.write(`sim: ${this.store()}\n`);
  }

  private start(start: RunStart): void {
    this.nameStore();
    this.offline = start.offline;
    this.progress = new ProgressReporter(start.roundsTotal, process.stderr, start.stats, start.roundsDone);
    // A recorded run (with a log) says what it runs; an exact replay's scratch run does not.
    if (start.logFile === null) return;
    const { runId, config } = start;
    if (start.offline) notice(`sim: run ${runId} uses the ${OFFLINE_NOTICE}`);
    notice(`sim: run ${runId}: ${config.n_users} users, seed ${config.seed}, conditions ${config.warmup_only ? '(warmup only)' : conditionRuns(config).map((c) => c.stream).join(', ')}; log ${start.logFile}`);
  }

  done(): void {
    this.progress?.done();
  }

  /** Runs `work` with this view's hooks, ending the progress line before its result or error is printed. */
  async around<T>(work: (hooks: RunHooks) => Promise<T>): Promise<T> {
    try {
      return await work(this.hooks);
    } finally {
      this.done();
    }
  }
}

/** A finished (or stopped) run's summary, on stdout. */
export function printSummary(result: RunResult): void {
  const out = process.stdout;
  // The fingerprint on a line of its own: with it the line would not fit 80 columns.
  out.write(`\nrun ${result.runId} ${result.status ?? ''}${result.seconds !== null ? ` in ${result.seconds.toFixed(1)}s` : ''}: ${result.events} events, ${result.fellBack} decisions fell back\nfingerprint ${result.fingerprint}\n`);
  if (result.offline) notice(`decisions by the ${OFFLINE_NOTICE}`, out);
  const stats = result.stats;
  if (stats) out.write(`LLM: ${stats.calls} calls, ${stats.cacheHits} cache hits, ${stats.retries} retries, ${stats.promptTokens + stats.completionTokens} tokens, ~$${stats.costUsd.toFixed(4)}\n`);
  if (result.conditions.length === 0) {
    out.write('(warmup only: no conditions run)\n\n');
    return;
  }
  out.write('\n');
  printTable(
    ['condition', 'eligible', 'turnout', 'treated', 'turnout treated', 'turnout untreated', 'mean final likelihood', 'effect vs control', 'turnout effect'],
    result.conditions.map((s: ConditionSummary) => [
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

/** What a run that calls a paid LLM says before anything is written: the `--dry-run` estimate in one line. */
export function spendLine(e: RunEstimate): string {
  const cap = e.config.llm.max_cost_usd;
  const calls = e.calls.total.toLocaleString('en-US');
  const tokens = Math.round(e.promptTokens + e.completionTokens).toLocaleString('en-US');
  return `sim: estimate: ${calls} LLM calls, ${tokens} tokens, $${formatUsd(e.costUsd)} at config prices${cap !== null ? `; capped at $${formatUsd(cap)}` : ''} (--dry-run: details)`;
}

/**
 * The spend hooks of the commands that start paid runs (run, submit, sweep): the estimate on stderr
 * and, on a terminal, a yes/no question; without one (a script, CI) the answer is no.
 */
export const spendHooks: SpendHooks = {
  onSpendEstimate: (estimate) => process.stderr.write(`${spendLine(estimate)}\n`),
  confirmSpend: (estimate) => confirmOnTerminal(estimate),
};

async function confirmOnTerminal(e: RunEstimate): Promise<boolean> {
  if (!process.stdin.isTTY || !process.stderr.isTTY) return false;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await new Promise<boolean>((resolve) => {
      rl.on('SIGINT', () => resolve(false));
      rl.on('close', () => resolve(false));
      rl.question(`sim: spend about $${formatUsd(e.costUsd)} on LLM calls? [y/N] `, (answer) => resolve(/^\s*y(es)?\s*$/i.test(answer)));
    });
  } finally {
    rl.close();
  }
}

/** `sim run --dry-run`: calls, tokens and cost of the experiment, before spending anything. */
export function printEstimate(e: RunEstimate): void {
  const { config } = e;
  const lines = [
    `estimate for ${config.n_users} users, ${config.warmup_only ? 'warmup only' : `${config.run_conditions.length} conditions`} (nothing was run):`,
    `  LLM calls        ${e.calls.total.toLocaleString('en-US')} (initial posts ${e.calls.initialPosts}, warmup turns ${e.calls.warmupTurns.toLocaleString('en-US')}, condition turns ${e.calls.conditionTurns.toLocaleString('en-US')}, votes ${e.calls.votes.toLocaleString('en-US')})`,
    `  tokens           ${Math.round(e.promptTokens).toLocaleString('en-US')} prompt + ${Math.round(e.completionTokens).toLocaleString('en-US')} completion`,
    `  estimated cost   $${e.costUsd.toFixed(2)} at config prices, before provider-side prompt caching`,
    ...Object.entries(e.byModel).map(([model, m]) => `    ${model.padEnd(16)} ${(100 * m.share).toFixed(1)}% of calls, $${m.costUsd.toFixed(2)}`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

const pct = (x: number | null) => (x === null ? '-' : `${(100 * x).toFixed(1)}%`);
const num = (x: number | null) => (x === null ? '-' : x.toFixed(3));
/** Signed; what rounds to zero is unsigned ("0.000", never "-0.000"). */
const signedFixed = (x: number, digits: number) => (Number(x.toFixed(digits)) === 0 ? (0).toFixed(digits) : `${x > 0 ? '+' : ''}${x.toFixed(digits)}`);
const signed = (x: number | null) => (x === null ? '-' : signedFixed(x, 3));
const signedPct = (x: number | null) => (x === null ? '-' : `${signedFixed(100 * x, 1)} pts`);
