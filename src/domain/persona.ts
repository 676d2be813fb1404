import { z } from 'zod';

/**
 * A simulated user: the demographic columns of profiles.csv plus what a run derives from them. The
 * schema is the one description of the shape: the Persona type, the PopulationLoaded payload
 * (src/domain/events.ts) and a profiles.csv row (ProfileRow in ./population/types.ts) derive from it.
 */
export const personaSchema = z.object({
  id: z.number().int(),
  age: z.number().int().min(0).max(130),
  sex: z.string(),
  race: z.string(),
  education: z.string(),
  occupation: z.string(),
  workclass: z.string(),
  maritalStatus: z.string(),
  relationship: z.string(),
  nativeCountry: z.string(),
  hoursPerWeek: z.number(),
  politicalStance: z.string(),
  interests: z.array(z.string()).min(1),
  closeFriends: z.array(z.number().int()),
  publicProfile: z.string(),
  workSchedule: z.string(),
  /** LLM tier drawn for this run (low / mid / high), and the model it maps to. */
  tier: z.enum(['low', 'mid', 'high']),
  model: z.string(),
});

export type Persona = z.infer<typeof personaSchema>;

export type LlmTier = Persona['tier'];

/** Users under this age are never treated and never asked about voting (docs/protocol.md). */
const VOTING_AGE = 18;

export function isEligible(persona: Pick<Persona, 'age'>): boolean {
  return persona.age >= VOTING_AGE;
}

/** docs/protocol.md: work schedule derived from hours/week when a profile does not give one. */
export function workScheduleFromHours(hoursPerWeek: number): string {
  if (hoursPerWeek <= 20) return 'part-time flexible';
  if (hoursPerWeek <= 35) return 'part-time regular';
  if (hoursPerWeek <= 45) return 'full-time standard';
  if (hoursPerWeek <= 55) return 'full-time long';
  return 'full-time very long';
}
