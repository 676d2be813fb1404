import type { ExperimentConfig } from '../domain/config.js';
import type { Persona } from '../domain/persona.js';
import { tierWeights } from '../domain/tiers.js';
import { estimateCost, type Estimate } from '../llm/estimate.js';
import { loadPopulation } from '../sim/population.js';
import { resolveConfig, type Notice, type RunOptions } from './config.js';

/** What `sim run --dry-run` reports: the experiment it would run and its calls, tokens and cost. */
export interface RunEstimate extends Estimate {
  config: ExperimentConfig;
}

/** Calls, tokens and cost of the experiment the options describe, before spending anything; runs nothing. */
export function estimateRun(options: RunOptions, notice?: Notice): RunEstimate {
  return estimateConfig(resolveConfig(options, notice));
}

/** The estimate for a resolved config: model tiers weighted over the actual population when there is one. */
function estimateConfig(config: ExperimentConfig): RunEstimate {
  const population = config.from_warmup ? null : loadPopulation(config);
  return estimateFor(config, population?.personas ?? []);
}

/** The estimate for a resolved config and its users (none: the config's tier probabilities). */
export function estimateFor(config: ExperimentConfig, personas: ReadonlyArray<Pick<Persona, 'age' | 'education' | 'occupation'>>): RunEstimate {
  const { shares, adults } = populationMix(personas, config);
  return { ...estimateCost(config, shares, adults), config };
}

/**
 * What an estimate needs of the population: the expected share of each model tier and the share of
 * adults (only they are asked to vote); the config's tier probabilities and 92% without one.
 */
export function populationMix(personas: ReadonlyArray<Pick<Persona, 'age' | 'education' | 'occupation'>>, config: ExperimentConfig): { shares: { low: number; mid: number; high: number }; adults: number } {
  if (personas.length === 0) return { shares: { ...config.llm.tier_probabilities }, adults: 0.92 };
  const shares = { low: 0, mid: 0, high: 0 };
  for (const p of personas) {
    const w = tierWeights(p, config.llm);
    shares.low += w.low / personas.length;
    shares.mid += w.mid / personas.length;
    shares.high += w.high / personas.length;
  }
  return { shares, adults: personas.filter((p) => p.age >= 18).length / personas.length };
}
