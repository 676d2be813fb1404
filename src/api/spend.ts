import { conditionRuns, electionRound, mainStartRound, WARMUP_STREAM, type ExperimentConfig } from '../domain/config.js';
import type { DecisionRequest, Provider } from '../domain/decision.js';
import type { Persona } from '../domain/persona.js';
import { CostCapError, formatUsd, UsageError } from '../errors.js';
import { streamId } from '../events/stream-ids.js';
import { costPerCall, meanRoundsBetweenTurns } from '../llm/estimate.js';
import { streamFinished } from '../sim/run-status.js';
import type { EventStore } from '../sim/store.js';
import { estimateFor, populationMix, type RunEstimate } from './estimate.js';

/**
 * Money: a run that would spend it says how much first and goes on only when asked to, and a run
 * with a cap (--max-cost, llm.max_cost_usd) stops at a round boundary before passing it.
 *
 * A run spends money when it calls an LLM (provider openai) and its estimate at the config's prices
 * (llm.prices) is above $0: OpenAI's models, or any model given a price. A local server serving
 * models without a price costs nothing, so nothing is asked.
 */

/** How a caller hears of (and agrees to) a run's spending; the CLI prints the estimate and asks on a terminal. */
export interface SpendHooks {
  /** A run about to call a paid LLM: its estimate (calls, tokens, cost), told before anything is written. */
  onSpendEstimate?: (estimate: RunEstimate) => void;
  /**
   * Asked when the spending was not asked for explicitly (`--provider openai` or `--yes`): true
   * goes on. Absent, or false: the command is refused and nothing is written.
   */
  confirmSpend?: (estimate: RunEstimate) => Promise<boolean>;
}

/** What the command line said about spending. */
export interface SpendAsk {
  provider?: string;
  yes?: boolean;
  cacheOnly?: boolean;
}

/**
 * Before anything is written: a run that would spend money tells its estimate and goes on only when
 * asked for explicitly (`--provider openai` on the command line, `--yes`) or when `confirmSpend`
 * says yes; otherwise it is refused (a usage error, exit 2). A free run passes silently. `what` names
 * the work in the refusal ("this run", "these 6 runs").
 */
export async function confirmSpending(estimate: RunEstimate | null, ask: SpendAsk, hooks: SpendHooks, what = 'this run'): Promise<void> {
  if (!estimate || ask.cacheOnly || !(estimate.costUsd > 0)) return;
  hooks.onSpendEstimate?.(estimate);
  if (ask.provider === 'openai' || ask.yes) return;
  if (hooks.confirmSpend && (await hooks.confirmSpend(estimate))) return;
  const cap = estimate.config.llm.max_cost_usd;
  throw new UsageError(
    `${what} would spend about $${formatUsd(estimate.costUsd)} on LLM calls${cap !== null ? ` (capped at $${formatUsd(cap)})` : ''}, not asked for: add --yes (or --provider openai) to spend it; nothing was written`,
  );
}

/** The estimate of a config that calls an LLM (null for the offline model), over its users when known. */
export function spendEstimate(config: ExperimentConfig, personas: ReadonlyArray<Pick<Persona, 'age' | 'education' | 'occupation'>>): RunEstimate | null {
  return config.provider === 'openai' ? estimateFor(config, personas) : null;
}

/**
 * What the rest of a recorded run would cost at the config's prices (typical call sizes, as
 * `--dry-run` estimates): the initial posts if not recorded, each stream's rounds left and its
 * election day.
 */
export async function restOfRunCost(store: EventStore, runId: number, config: ExperimentConfig): Promise<number> {
  const { shares, adults } = populationMix([], config);
  const unit = costPerCall(config, shares);
  const perRound = config.n_users / meanRoundsBetweenTurns(config.activity.min_interval, config.activity.max_interval);
  let cost = 0;
  if (!config.from_warmup) {
    const id = streamId(runId, WARMUP_STREAM);
    if ((await store.head(id)).position === 0) cost += config.content.initial_posts * unit.post;
    if (!(await streamFinished(store, id))) {
      const last = (await store.maxRoundOf(id, 'RoundCompleted')) ?? config.warmup.start_round - 1;
      cost += Math.max(0, config.warmup.end_round - last) * perRound * unit.turn;
    }
  }
  if (!config.warmup_only) {
    for (const c of conditionRuns(config)) {
      const id = streamId(runId, c.stream);
      if (await streamFinished(store, id)) continue;
      const last = (await store.maxRoundOf(id, 'RoundCompleted')) ?? mainStartRound(config) - 1;
      cost += Math.max(0, electionRound(config) - last) * perRound * unit.turn + config.n_users * adults * unit.vote;
    }
  }
  return cost;
}

/** A cap that would let the rest of the run go through: spent plus the rest's estimate plus 20%, rounded up as formatUsd shows it. */
export function capForRest(spent: number, rest: number): string {
  const cap = spent + rest * 1.2;
  const unit = cap >= 1 ? 100 : 10_000;
  return formatUsd(Math.ceil(cap * unit) / unit);
}

/**
 * A run's spending, held in the store (run_spend) so that every process executing the run (a
 * resume, each worker's jobs) adds to one total. Before each batch of requests (EngineOptions
 * .beforeDecide) the spend of the batches before is settled and, with a cap, an upper estimate of
 * this batch (Provider.costBound: answers in the cache cost nothing) is added only if the total stays
 * within the cap, atomically; else the stream stops there with a CostCapError. `settle()` at the end
 * replaces the last estimate by what was spent.
 */
export class SpendMeter {
  /** The provider's cost already in the store's total, and the estimate added for the batch in flight. */
  private settled = 0;
  private reserved = 0;

  constructor(
    private readonly store: EventStore,
    private readonly runId: number,
    private readonly config: ExperimentConfig,
    private readonly provider: Provider,
    private readonly cap: number | null,
  ) {}

  /** For EngineOptions.beforeDecide. */
  readonly beforeDecide = async (requests: readonly DecisionRequest[], round: number, stream: string): Promise<void> => {
    const change = this.change();
    const bound = this.cap === null || !this.provider.costBound ? 0 : await this.provider.costBound(requests);
    if (bound === 0) {
      // Uncapped, or a batch the cache answers: it costs nothing and is never refused.
      if (change !== 0) await this.store.addRunSpend(this.runId, change);
      return;
    }
    const result = await this.store.addRunSpend(this.runId, change + bound, this.cap);
    if (result.added) {
      this.reserved = bound;
      return;
    }
    const spent = change !== 0 ? (await this.store.addRunSpend(this.runId, change)).total : result.total;
    throw new CostCapError(round, stream, spent, this.cap!, await restOfRunCost(this.store, this.runId, this.config));
  };

  /** Records what was spent since the last batch started, in place of its estimate. */
  async settle(): Promise<void> {
    const change = this.change();
    if (change !== 0) await this.store.addRunSpend(this.runId, change);
  }

  /** What the store's total lacks: the cost since the last settlement, less the estimate added for it. */
  private change(): number {
    const cost = this.provider.stats?.().costUsd ?? 0;
    const change = cost - this.settled - this.reserved;
    this.settled = cost;
    this.reserved = 0;
    return change;
  }
}
