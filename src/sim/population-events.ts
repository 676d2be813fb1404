import { makeEvent, type SimEvent } from '../domain/events.js';
import type { Population } from './engine-types.js';

const AGENTS_PER_PART = 5_000;
const FOLLOWS_PER_PART = 100_000;

/** The population as one PopulationLoaded event, or as parts when it is large. */
export function populationEvents(population: Population, round: number): SimEvent[] {
  const agents = [...population.personas].sort((a, b) => a.id - b.id);
  const follows = [...population.follows].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  if (agents.length <= AGENTS_PER_PART && follows.length <= FOLLOWS_PER_PART) {
    return [makeEvent('PopulationLoaded', { source: population.source, agents, follows }, round)];
  }
  const chunks: Array<{ agents: typeof agents; follows: typeof follows }> = [];
  for (let i = 0; i < agents.length; i += AGENTS_PER_PART) chunks.push({ agents: agents.slice(i, i + AGENTS_PER_PART), follows: [] });
  for (let i = 0; i < follows.length; i += FOLLOWS_PER_PART) chunks.push({ agents: [], follows: follows.slice(i, i + FOLLOWS_PER_PART) });
  return chunks.map((c, i) => makeEvent('PopulationLoaded', { source: population.source, agents: c.agents, follows: c.follows, part: i + 1, parts: chunks.length }, round));
}
