import { FallbackBudgetError } from '../errors.js';
import type { SimEvent } from '../domain/events.js';

/** Below this many decisions a stream's rate is noise (1 of 20 is 5%); its last batch is always judged. */
export const MIN_DECISIONS = 100;
export const DEFAULT_MAX_FALLBACK_RATE = 0.02;

/**
 * Counts the decisions of one stream that fell back (at least one DecisionFellBack for the agent in
 * that batch) and stops the run, before the batch is recorded, when their share passes the budget.
 * Counts start with the process: a resumed stream is judged on what it asks from then on.
 */
export class FallbackBudget {
  decisions = 0;
  fellBack = 0;
  private readonly reasons = new Map<string, number>();
  private readonly raws: string[] = [];

  constructor(
    readonly stream: string,
    readonly maxRate: number,
  ) {}

  /** Adds a batch of `decisions` asked and its events; throws FallbackBudgetError when over budget. */
  add(decisions: number, batch: SimEvent[], last: boolean): void {
    const agents = new Set<number>();
    for (const event of batch) {
      if (event.type !== 'DecisionFellBack') continue;
      agents.add(event.meta.agentId ?? -1);
      const data = event.data as { reason: string; raw: string | null };
      // Numbers vary between otherwise equal reasons ("post_number 7 is not in the feed (1-4)").
      const reason = data.reason.replace(/\d+/g, 'N');
      this.reasons.set(reason, (this.reasons.get(reason) ?? 0) + 1);
      if (data.raw && this.raws.length < 3 && !this.raws.includes(data.raw)) this.raws.push(data.raw);
    }
    this.decisions += decisions;
    this.fellBack += agents.size;
    if (this.decisions === 0 || (this.decisions < MIN_DECISIONS && !last)) return;
    if (this.fellBack / this.decisions > this.maxRate) throw new FallbackBudgetError(this.message(), { stream: this.stream, decisions: this.decisions, fellBack: this.fellBack, maxRate: this.maxRate });
  }

  private message(): string {
    const top = [...this.reasons].sort((a, b) => b[1] - a[1]).slice(0, 3);
    const pct = (x: number) => `${(100 * x).toFixed(x < 0.1 ? 1 : 0)}%`;
    return [
      `stream ${this.stream}: ${this.fellBack} of ${this.decisions} decisions (${pct(this.fellBack / this.decisions)}) fell back, over the budget of ${pct(this.maxRate)} (--max-fallback-rate); the round was not recorded and its answers are cached`,
      `  most frequent reasons: ${top.map(([r, n]) => `${r} (${n})`).join('; ')}`,
      ...(this.raws.length > 0 ? [`  raw answers: ${this.raws.map((r) => JSON.stringify(r.length > 160 ? `${r.slice(0, 160)}...` : r)).join(' | ')}`] : []),
      '  check the model, the server and llm.models; or raise --max-fallback-rate and continue with `sim resume`',
    ].join('\n');
  }
}
