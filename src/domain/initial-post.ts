import type { InitialPostRequest, ProviderAnswer } from './decision.js';
import { makeEvent, type SimEvent } from './events.js';

/**
 * The events of one initial post: the model's text cut to `maxChars`; an empty text (or no answer)
 * gets the placeholder "Thoughts on <subtopic>?" and a DecisionFellBack saying why.
 */
export function initialPostEvents(request: InitialPostRequest, answer: ProviderAnswer, postId: number, maxChars: number, round: number): SimEvent[] {
  const events: SimEvent[] = [];
  const content = answer.ok && typeof (answer.value as { content?: unknown }).content === 'string' ? (answer.value as { content: string }).content.trim() : '';
  let text = content.slice(0, maxChars);
  if (text.length === 0) {
    text = `Thoughts on ${request.subtopic}?`;
    events.push(makeEvent('DecisionFellBack', { purpose: 'initial_post', field: 'content', reason: `${answer.ok ? 'empty post' : answer.reason}: used a placeholder text`, raw: answer.raw }, round, request.key.agentId));
  }
  events.push(makeEvent('PostCreated', { postId, authorId: request.key.agentId, topic: request.topic, subtopic: request.subtopic, text }, round, request.key.agentId));
  return events;
}
