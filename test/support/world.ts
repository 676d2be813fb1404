import { evolveAll } from '../../src/domain/evolve.js';
import { makeEvent, type SimEvent } from '../../src/domain/events.js';
import type { Persona } from '../../src/domain/persona.js';
import { emptyWorld, type World } from '../../src/domain/world.js';

/** A hand-made persona with sensible defaults, for domain tests. */
export function persona(id: number, overrides: Partial<Persona> = {}): Persona {
  return {
    id,
    age: 30,
    sex: 'Female',
    race: 'White',
    education: 'HS-grad',
    occupation: 'Sales',
    workclass: 'Private',
    maritalStatus: 'Never-married',
    relationship: 'Not-in-family',
    nativeCountry: 'United-States',
    hoursPerWeek: 40,
    politicalStance: 'moderate',
    interests: ['Politics', 'Technology'],
    closeFriends: [],
    publicProfile: `user ${id}`,
    workSchedule: 'full-time standard',
    tier: 'low',
    model: 'gpt-4.1-nano',
    ...overrides,
  };
}

export interface PostSpec {
  author: number;
  subtopic?: string;
  likes?: number[];
  replies?: number[];
}

/** Builds a world through events, so tests exercise `evolve` as the simulator does. */
export function worldOf(personas: Persona[], follows: Array<[number, number]>, posts: PostSpec[] = [], extra: SimEvent[] = []): World {
  const events: SimEvent[] = [makeEvent('PopulationLoaded', { source: 'test', agents: personas, follows }, -16)];
  posts.forEach((p, postId) => {
    events.push(makeEvent('PostCreated', { postId, authorId: p.author, topic: 'Politics', subtopic: p.subtopic ?? 'Politics', text: `post ${postId}` }, -16, p.author));
    for (const liker of p.likes ?? []) events.push(makeEvent('PostLiked', { postId }, -16, liker));
    for (const replier of p.replies ?? []) events.push(makeEvent('PostReplied', { postId, text: `reply by ${replier}` }, -16, replier));
  });
  return evolveAll(emptyWorld(), [...events, ...extra]);
}
