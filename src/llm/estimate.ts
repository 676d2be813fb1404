import { conditionRuns, electionRound, mainStartRound, type ExperimentConfig } from '../domain/config.js';
import { costOf, type Price } from './cost.js';

/**
 * What an experiment will cost before anything is spent. Agents act about once every
 * E = mean(t) + mean(0..1+t) = 3 + 2 = 5 rounds with the default interval (t uniform 1..5, then a
 * uniform 0..1+t extra), so a stage of R rounds has about n R / E turns. Token counts are typical
 * sizes of this project's prompts (about 4 characters per token), measured on the default population.
 */
export interface Estimate {
  calls: { initialPosts: number; warmupTurns: number; conditionTurns: number; votes: number; total: number };
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
  byModel: Record<string, { share: number; costUsd: number }>;
}

const TYPICAL_TOKENS = { turnPrompt: 650, turnCompletion: 110, postPrompt: 200, postCompletion: 40, votePrompt: 220, voteCompletion: 6 };

export function meanRoundsBetweenTurns(min: number, max: number): number {
  let total = 0;
  for (let t = min; t <= max; t++) total += t + (1 + t) / 2;
  return total / (max - min + 1);
}

export function estimateCost(config: ExperimentConfig, tierShares: { low: number; mid: number; high: number }, adultShare = 0.92): Estimate {
  const n = config.n_users;
  const gap = meanRoundsBetweenTurns(config.activity.min_interval, config.activity.max_interval);
  const warmupRounds = config.from_warmup ? 0 : config.warmup.end_round - config.warmup.start_round + 1;
  const mainRounds = electionRound(config) - mainStartRound(config) + 1;
  const conditions = config.warmup_only ? 0 : conditionRuns(config).length;
  const initialPosts = config.from_warmup ? 0 : config.content.initial_posts;
  const warmupTurns = Math.round((n * warmupRounds) / gap);
  const conditionTurns = Math.round(((n * mainRounds) / gap) * conditions);
  const votes = Math.round(n * adultShare * conditions);
  const turns = warmupTurns + conditionTurns;
  const t = TYPICAL_TOKENS;
  const promptTokens = turns * t.turnPrompt + initialPosts * t.postPrompt + votes * t.votePrompt;
  const completionTokens = turns * t.turnCompletion + initialPosts * t.postCompletion + votes * t.voteCompletion;
  const byModel: Estimate['byModel'] = {};
  let costUsd = 0;
  for (const tier of ['low', 'mid', 'high'] as const) {
    const model = config.llm.models[tier];
    const share = tierShares[tier];
    const price: Price | undefined = config.llm.prices[model];
    const cost = costOf({ promptTokens: promptTokens * share, completionTokens: completionTokens * share, cachedTokens: 0 }, price);
    byModel[model] = { share: (byModel[model]?.share ?? 0) + share, costUsd: (byModel[model]?.costUsd ?? 0) + cost };
    costUsd += cost;
  }
  return { calls: { initialPosts, warmupTurns, conditionTurns, votes, total: initialPosts + turns + votes }, promptTokens, completionTokens, costUsd, byModel };
}

/** USD of one call of each kind (a turn, a vote, an initial post) at typical sizes and the config's prices, over the tier mix. */
export function costPerCall(config: ExperimentConfig, tierShares: { low: number; mid: number; high: number }): { turn: number; vote: number; post: number } {
  const t = TYPICAL_TOKENS;
  const at = (prompt: number, completion: number) => {
    let cost = 0;
    for (const tier of ['low', 'mid', 'high'] as const) {
      cost += tierShares[tier] * costOf({ promptTokens: prompt, completionTokens: completion, cachedTokens: 0 }, config.llm.prices[config.llm.models[tier]]);
    }
    return cost;
  };
  return { turn: at(t.turnPrompt, t.turnCompletion), vote: at(t.votePrompt, t.voteCompletion), post: at(t.postPrompt, t.postCompletion) };
}
