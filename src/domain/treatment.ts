import type { ExperimentConfig } from './config.js';
import type { TreatmentMessage } from './decision.js';
import { isEligible, type Persona } from './persona.js';
import { rng, type Rng } from './rng.js';
import type { World } from './world.js';

/**
 * Treatment assignment. Each eligible user gets one uniform draw from a stream named by the
 * treatment seed and its own id, reused in every period: a user is treated in a period when its
 * draw is below that period's probability. So assignment is nested (treated at 0.2 implies treated
 * at 0.4), depends on the treatment seed alone, and not on who else is in the population.
 */
export function assignmentDraw(treatmentSeed: number, agentId: number): number {
  return rng(treatmentSeed, 'treatment', 0, agentId, 'assign').next();
}

export function assignTreatment(personas: readonly Pick<Persona, 'id' | 'age'>[], probability: number, treatmentSeed: number): number[] {
  if (probability <= 0) return [];
  return personas
    .filter((p) => isEligible(p) && assignmentDraw(treatmentSeed, p.id) < probability)
    .map((p) => p.id)
    .sort((a, b) => a - b);
}

/** Users whose last stated likelihood makes them likely voters, in the whole network. */
export function countLikelyVoters(world: World, threshold: number): number {
  let n = 0;
  for (const id of world.agentIds) {
    const l = world.agents[id].likelihood;
    if (l !== null && l >= threshold) n += 1;
  }
  return n;
}

/**
 * The message a treated, eligible user sees this round (null otherwise). The social message adds
 * the network-wide count of likely voters and up to `social_max_friends` followed likely voters,
 * chosen at random.
 */
export function treatmentMessageFor(
  world: World,
  agentId: number,
  config: ExperimentConfig,
  likelyVoters: number,
  random: () => Rng,
): TreatmentMessage | null {
  if (!world.treated[agentId] || world.treatmentMessage === 'none') return null;
  if (!isEligible(world.personas[agentId])) return null;
  if (world.treatmentMessage === 'informational') {
    return { kind: 'informational', stimulus: config.messages.informational, likelyVoters: null, friendIds: [] };
  }
  const threshold = config.messages.likely_voter_threshold;
  const likelyFriends = world.agents[agentId].following.filter((f) => {
    const l = world.agents[f]?.likelihood;
    return l !== null && l !== undefined && l >= threshold;
  });
  return {
    kind: 'social',
    stimulus: config.messages.informational,
    likelyVoters,
    friendIds: random().sample(likelyFriends, config.messages.social_max_friends),
  };
}
