import { describe, expect, it } from 'vitest';
import { persona } from '../../test/support/world.js';
import { parseExperiment } from './config.js';
import type { InitialPostRequest, ProviderAnswer } from './decision.js';
import { applyVote, buildVoteRequest } from './election.js';
import { makeEvent } from './events.js';
import { feedContext } from './feed.js';
import { applyInitialPost } from './initial-post.js';
import { OfflineProvider } from './offline-model.js';
import { given } from './testing/given-when-then.js';
import { applyTurn, buildTurnRequest, newLedger, type TurnContext } from './turn.js';

/**
 * The offline persona model through the rules that apply its answers: whatever it decides, its
 * answers are well-formed, so no decision falls back. Only the model's contract is asserted here
 * (docs/offline-model.md describes its behaviour; offline-model.test.ts tests it).
 */
// No invitation to post, so a turn with an empty feed records just the intention and the schedule.
const config = parseExperiment({ content: { invite_probability: 0, topic_from_feed_probability: 0.7, max_chars: 140, initial_posts: 20, latest_reply_chars: 140 } });
const population = makeEvent('PopulationLoaded', { source: 'test', agents: [persona(0, { age: 45, politicalStance: 'liberal' }), persona(1, { age: 16 })], follows: [] }, -16);
const ctxOf = (world: TurnContext['feed']['world']): TurnContext => ({ config, seed: 9, stage: 'main', round: 12, feed: feedContext(world), likelyVoters: 0 });

async function turnAnswer(agentId: number, provider = new OfflineProvider()): Promise<ProviderAnswer> {
  const world = given([population]).world;
  return provider.decide(buildTurnRequest(ctxOf(world), agentId));
}

describe('the offline model, given/when/then', () => {
  it('given an adult and an empty feed, when the model answers its turn, then a likelihood 0-4 and the next activity, no fallback', async () => {
    const answer = await turnAnswer(0);
    const when = given([population]).when((world) => {
      const ctx = ctxOf(world);
      return applyTurn(ctx, buildTurnRequest(ctx, 0), answer, newLedger(world));
    });
    when.then([
      { type: 'VotingIntentionStated', data: { likelihood: expect.any(Number) }, meta: { agentId: 0, round: 12 } },
      { type: 'NextActivityScheduled', data: expect.objectContaining({ proposed: expect.any(Number) }) },
    ]);
    const likelihood = (when.events[0].data as { likelihood: number }).likelihood;
    expect(Number.isInteger(likelihood) && likelihood >= 0 && likelihood <= 4).toBe(true);
  });

  it('given a minor, when the model answers its turn, then only the next activity', async () => {
    const answer = await turnAnswer(1);
    given([population])
      .when((world) => {
        const ctx = ctxOf(world);
        return applyTurn(ctx, buildTurnRequest(ctx, 1), answer, newLedger(world));
      })
      .then([{ type: 'NextActivityScheduled' }]);
  });

  it('answers the same request the same way (a fresh model, the same seed)', async () => {
    expect(await turnAnswer(0, new OfflineProvider())).toEqual(await turnAnswer(0, new OfflineProvider()));
  });

  it('given an adult who stated a likelihood, when the model answers on election day, then a vote, no fallback', async () => {
    const { world } = given([population, makeEvent('VotingIntentionStated', { likelihood: 4 }, 29, 0)]);
    const request = buildVoteRequest(world, 0, config, 9, 30);
    const answer = await new OfflineProvider().decide(request!);
    given([population, makeEvent('VotingIntentionStated', { likelihood: 4 }, 29, 0)])
      .when((w) => applyVote(buildVoteRequest(w, 0, config, 9, 30), 0, answer, 30, config.messages.likely_voter_threshold))
      .then([{ type: 'VoteCast', data: { voted: expect.any(Boolean) }, meta: { agentId: 0, round: 30 } }]);
  });

  it('given the population, when the model writes an initial post, then the post, with text, no fallback', async () => {
    const { world } = given([population]);
    const request: InitialPostRequest = { purpose: 'initial_post', key: { seed: 9, agentId: 0, round: -16, purpose: 'initial_post' }, model: 'm', temperature: 0.5, persona: world.personas[0], topic: 'Politics', subtopic: 'Politics', maxChars: 140 };
    const answer = await new OfflineProvider().decide(request);
    const [post] = given([population])
      .when(() => applyInitialPost(request, answer, 0, 140, -16))
      .then([{ type: 'PostCreated', data: expect.objectContaining({ postId: 0, authorId: 0, topic: 'Politics', subtopic: 'Politics' }) }])
      .posts;
    expect(post.text.length).toBeGreaterThan(0);
    expect(post.text.length).toBeLessThanOrEqual(140);
  });
});
