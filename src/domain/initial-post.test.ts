import { describe, expect, it } from 'vitest';
import type { InitialPostRequest, ProviderAnswer } from './decision.js';
import { applyInitialPost } from './initial-post.js';

const request = { purpose: 'initial_post', key: { seed: 1, agentId: 7, round: 0, purpose: 'initial_post' }, model: 'm', temperature: 0.5, persona: {} as InitialPostRequest['persona'], topic: 'Politics', subtopic: 'Local elections', maxChars: 280 } as InitialPostRequest;
const answer = (value: unknown): ProviderAnswer => ({ ok: true, value, raw: JSON.stringify(value), cached: false, usage: null });

describe('an initial post', () => {
  it('is the answer, trimmed and cut to the maximum length', () => {
    const events = applyInitialPost(request, answer({ content: '  Go vote on Tuesday!  ' }), 3, 12, 0);
    expect(events.map((e) => [e.type, e.data])).toEqual([['PostCreated', { postId: 3, authorId: 7, topic: 'Politics', subtopic: 'Local elections', text: 'Go vote on T' }]]);
    expect(events[0].meta).toEqual({ round: 0, agentId: 7 });
  });

  it('falls back to a placeholder on the subtopic when the answer has no text, and records why first', () => {
    const empty = applyInitialPost(request, answer({ content: '   ' }), 0, 280, 0);
    expect(empty.map((e) => e.type)).toEqual(['DecisionFellBack', 'PostCreated']);
    expect(empty[0].data).toEqual({ purpose: 'initial_post', field: 'content', reason: 'empty post: used a placeholder text', raw: '{"content":"   "}' });
    expect(empty[1].data).toMatchObject({ text: 'Thoughts on Local elections?' });
    const failed = applyInitialPost(request, { ok: false, reason: 'not JSON', raw: 'oops', cached: false, usage: null }, 0, 280, 0);
    expect(failed[0].data).toEqual({ purpose: 'initial_post', field: 'content', reason: 'not JSON: used a placeholder text', raw: 'oops' });
    expect(applyInitialPost(request, answer({ text: 'wrong key' }), 0, 280, 0)[1].data).toMatchObject({ text: 'Thoughts on Local elections?' });
  });
});
