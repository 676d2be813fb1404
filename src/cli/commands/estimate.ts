import type { ExperimentConfig } from '../../domain/config.js';
import { tierWeights } from '../../domain/tiers.js';
import { estimateCost } from '../../llm/estimate.js';
import { loadPopulation } from '../../sim/population.js';

/** `sim run --dry-run`: calls, tokens and cost of the experiment, before spending anything. */
export function printEstimate(config: ExperimentConfig): void {
  const population = config.from_warmup ? null : loadPopulation(config);
  const shares = { low: 0, mid: 0, high: 0 };
  const personas = population?.personas ?? [];
  for (const p of personas) {
    const w = tierWeights(p, config.llm);
    shares.low += w.low / personas.length;
    shares.mid += w.mid / personas.length;
    shares.high += w.high / personas.length;
  }
  if (personas.length === 0) Object.assign(shares, config.llm.tier_probabilities);
  const adults = personas.length > 0 ? personas.filter((p) => p.age >= 18).length / personas.length : 0.92;
  const e = estimateCost(config, shares, adults);
  const lines = [
    `estimate for ${config.n_users} users, ${config.warmup_only ? 'warmup only' : `${config.run_conditions.length} conditions`} (nothing was run):`,
    `  LLM calls        ${e.calls.total.toLocaleString('en-US')} (initial posts ${e.calls.initialPosts}, warmup turns ${e.calls.warmupTurns.toLocaleString('en-US')}, condition turns ${e.calls.conditionTurns.toLocaleString('en-US')}, votes ${e.calls.votes.toLocaleString('en-US')})`,
    `  tokens           ${Math.round(e.promptTokens).toLocaleString('en-US')} prompt + ${Math.round(e.completionTokens).toLocaleString('en-US')} completion`,
    `  estimated cost   $${e.costUsd.toFixed(2)} at config prices, before provider-side prompt caching`,
    ...Object.entries(e.byModel).map(([model, m]) => `    ${model.padEnd(16)} ${(100 * m.share).toFixed(1)}% of calls, $${m.costUsd.toFixed(2)}`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
