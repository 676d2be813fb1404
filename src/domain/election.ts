import type { ExperimentConfig } from './config.js';
import { voteAnswerSchema, type ProviderAnswer, type VoteRequest } from './decision.js';
import { isEligible } from './persona.js';
import type { World } from './world.js';
import { makeEvent, type SimEvent } from './events.js';

/**
 * Election day (docs/protocol.md): after the last round every user aged 18+ is asked, with its persona
 * and latest likelihood, whether it voted. Users under 18 did not vote and are not asked.
 */
export function buildVoteRequest(world: World, agentId: number, config: ExperimentConfig, seed: number, round: number): VoteRequest | null {
  const persona = world.personas[agentId];
  if (!isEligible(persona)) return null;
  return {
    purpose: 'vote',
    key: { seed, agentId, round, purpose: 'vote' },
    model: persona.model,
    temperature: config.llm.temperature,
    persona,
    lastLikelihood: world.agents[agentId].likelihood,
  };
}

/** Documented fallback when no usable answer came back: a likely voter (3 or 4) voted. */
function fallbackVote(lastLikelihood: number | null, threshold: number): boolean {
  return lastLikelihood !== null && lastLikelihood >= threshold;
}

export function applyVote(request: VoteRequest | null, agentId: number, answer: ProviderAnswer | null, round: number, threshold: number): SimEvent[] {
  if (!request) return [makeEvent('VoteCast', { voted: false }, round, agentId)];
  const parsed = answer?.ok ? voteAnswerSchema.safeParse(answer.value) : null;
  if (parsed?.success) return [makeEvent('VoteCast', { voted: parsed.data.voted === 1 }, round, agentId)];
  const voted = fallbackVote(request.lastLikelihood, threshold);
  const reason = answer && !answer.ok ? answer.reason : 'answer is not {"voted": 0 or 1}';
  return [
    makeEvent('DecisionFellBack', { purpose: 'vote', field: 'voted', reason: `${reason}: voted = ${voted ? 1 : 0} from the last likelihood`, raw: answer?.raw ?? null }, round, agentId),
    makeEvent('VoteCast', { voted }, round, agentId),
  ];
}
