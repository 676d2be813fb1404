import type { InitialPostRequest, ProviderAnswer } from './decision.js';
import { makeEvent, type SimEvent } from './events.js';

/** The text an initial post gets when its author's answer gave none (recorded as a fallback). */
function placeholderPost(subtopic: string): string {
  return `Thoughts on ${subtopic}?`;
}

/**
 * One of the posts that seed the warmup (docs/protocol.md): the author's answer, trimmed and cut to
 * `maxChars`. An answer with no text (unusable, or empty once trimmed) gets the placeholder, and
 * the fallback is recorded before the post.
 */
export function applyInitialPost(request: InitialPostRequest, answer: ProviderAnswer, postId: number, maxChars: number, round: number): SimEvent[] {
  const authorId = request.key.agentId;
  const content = answer.ok && typeof (answer.value as { content?: unknown }).content === 'string' ? (answer.value as { content: string }).content.trim() : '';
  let text = content.slice(0, maxChars);
  const events: SimEvent[] = [];
  if (text.length === 0) {
    text = placeholderPost(request.subtopic);
    events.push(makeEvent('DecisionFellBack', { purpose: 'initial_post', field: 'content', reason: `${answer.ok ? 'empty post' : answer.reason}: used a placeholder text`, raw: answer.raw }, round, authorId));
  }
  events.push(makeEvent('PostCreated', { postId, authorId, topic: request.topic, subtopic: request.subtopic, text }, round, authorId));
  return events;
}
