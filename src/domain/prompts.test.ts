import { describe, expect, it } from 'vitest';
import { persona } from '../../test/support/world.js';
import type { TurnRequest } from './decision.js';
import { buildMessages, electionWhen, responseFormat } from './prompts.js';

const base: TurnRequest = {
  purpose: 'turn',
  key: { seed: 1, agentId: 7, round: 29, purpose: 'turn' },
  model: 'gpt-4.1-nano',
  temperature: 0.5,
  persona: persona(7, { age: 44, politicalStance: 'slightly conservative', interests: ['Politics', 'Sports'], closeFriends: [3, 9] }),
  round: 29,
  stage: 'main',
  topic: 'Politics',
  previousTurn: { round: 25, liked: [{ postId: 4, text: 'Polls open at 7.' }], replied: [], posted: null },
  previousLikelihood: 3,
  feed: [
    { number: 1, postId: 12, authorId: 3, authorProfile: '52, works in sales', authorFollowed: true, topic: 'Politics', subtopic: 'Politics', text: 'Who is voting?', likesByFollowed: 2, repliesByFollowed: 1, totalLikes: 5, totalReplies: 2, latestReply: 'Me!' },
    { number: 2, postId: 8, authorId: 11, authorProfile: '23, student', authorFollowed: false, topic: 'general', subtopic: 'Sports', text: 'Game tonight', likesByFollowed: 0, repliesByFollowed: 0, totalLikes: 0, totalReplies: 0, latestReply: null },
  ],
  election: { daysLeft: 1 },
  treatment: { kind: 'social', stimulus: 'VOTE OR BE SILENCED! One ballot = one voice. Use yours.', likelyVoters: 640, friendIds: [3, 9] },
  invitePost: null,
  activityRange: { min: 1, max: 5 },
};

/*
 * The snapshots below pin the prompts' text because prompts are part of the LLM cache key
 * (src/llm/openai-provider.test.ts checks that a one-character change makes a new key): a prompt
 * edit makes every cached answer unreachable and a recorded run unreplayable, so it must be a
 * deliberate `vitest -u`, never a side effect.
 */
describe('turn prompts', () => {
  it('put the stable instructions and persona first, and the round in the user message (snapshot: prompts are in the cache key)', () => {
    const [system, user] = buildMessages(base);
    expect(system.role).toBe('system');
    expect(system.content).toContain('You are 44 years old');
    expect(system.content).not.toContain('Round 29');
    expect(user.content).toMatchSnapshot();
  });

  it('carry the social message: stimulus verbatim, likely voters, named friends, "Will you?"', () => {
    const user = buildMessages(base)[1].content;
    expect(user).toContain('"VOTE OR BE SILENCED! One ballot = one voice. Use yours."');
    expect(user).toContain('640 people on the platform said they are likely to vote. Among people you follow: user 3, user 9. Will you?');
    expect(user).toContain('The election is tomorrow.');
    expect(user).toContain('Last time you said your likelihood of voting was 3');
  });

  it('do not mention the election nor ask about voting for users under 18', () => {
    const minor = { ...base, election: null, treatment: null, previousLikelihood: null };
    const user = buildMessages(minor)[1].content;
    expect(user).not.toMatch(/election|voting_likelihood|likely to vote/i);
    expect(JSON.stringify(responseFormat(minor))).not.toContain('voting_likelihood');
  });

  it('say "today", "tomorrow" or "in N days"', () => {
    expect([0, 1, 2, 45].map(electionWhen)).toEqual(['today', 'tomorrow', 'in 2 days', 'in 45 days']);
  });
});

describe('vote and initial post prompts', () => {
  it('are stable (snapshot: prompts are in the cache key)', () => {
    const p = persona(2, { age: 67 });
    expect(buildMessages({ purpose: 'vote', key: { seed: 1, agentId: 2, round: 30, purpose: 'vote' }, model: 'm', temperature: 0.5, persona: p, lastLikelihood: 4 })).toMatchSnapshot();
    expect(buildMessages({ purpose: 'initial_post', key: { seed: 1, agentId: 2, round: -16, purpose: 'initial_post' }, model: 'm', temperature: 0.5, persona: p, topic: 'Politics', subtopic: 'Technology', maxChars: 140 })).toMatchSnapshot();
  });
});
