import { WARMUP_STREAM } from '../domain/config.js';
import type { InitialPostRequest } from '../domain/decision.js';
import { makeEvent, type SimEvent } from '../domain/events.js';
import { applyInitialPost } from '../domain/initial-post.js';
import { rng } from '../domain/rng.js';
import { initialNextActivity } from '../domain/schedule.js';
import { decideAll } from './decide.js';
import type { EngineOptions, Population } from './engine-types.js';
import { populationEvents } from './population-events.js';

/** The first batch of a run: the population, initial activity rounds and the initial posts. */
export async function setupEvents(opts: EngineOptions, population: Population): Promise<SimEvent[]> {
  const { config } = opts;
  const seed = config.seed;
  const setupRound = config.warmup.start_round - 1;
  const events: SimEvent[] = [...populationEvents(population, setupRound), makeEvent('StageStarted', { stage: WARMUP_STREAM, condition: null, treatmentSeed: null, forkedFrom: null }, setupRound)];
  const ids = population.personas.map((p) => p.id).sort((a, b) => a - b);
  for (const id of ids) {
    const next = initialNextActivity(config.warmup.start_round, config.activity, rng(seed, 'warmup', config.warmup.start_round, id, 'initial-activity'));
    events.push(makeEvent('NextActivityScheduled', { nextRound: next, proposed: null }, setupRound, id));
  }

  const byId = new Map(population.personas.map((p) => [p.id, p]));
  const n = config.content.initial_posts;
  const pick = rng(seed, 'setup', setupRound, 0, 'initial-authors');
  // Distinct authors when the population allows, so each post is its own draw.
  const authors = n <= ids.length ? pick.sample(ids, n) : Array.from({ length: n }, () => pick.pick(ids));
  const requests: InitialPostRequest[] = authors.map((authorId) => {
    const persona = byId.get(authorId)!;
    return {
      purpose: 'initial_post',
      key: { seed, agentId: authorId, round: setupRound, purpose: 'initial_post' },
      model: persona.model,
      temperature: config.llm.temperature,
      persona,
      topic: config.topic,
      subtopic: rng(seed, 'setup', setupRound, authorId, 'initial-subtopic').pick(persona.interests),
      maxChars: config.content.max_chars,
    };
  });
  await opts.beforeDecide?.(requests, setupRound, WARMUP_STREAM);
  const answers = await decideAll(opts.provider, requests, opts.signal, setupRound, WARMUP_STREAM);
  requests.forEach((request, postId) => events.push(...applyInitialPost(request, answers[postId], postId, config.content.max_chars, setupRound)));
  return events;
}
