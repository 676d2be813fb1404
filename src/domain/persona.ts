/** A simulated user: the demographic columns of profiles.csv plus what a run derives from them. */
export interface Persona {
  id: number;
  age: number;
  sex: string;
  race: string;
  education: string;
  occupation: string;
  workclass: string;
  maritalStatus: string;
  relationship: string;
  nativeCountry: string;
  hoursPerWeek: number;
  politicalStance: string;
  interests: string[];
  closeFriends: number[];
  publicProfile: string;
  workSchedule: string;
  /** LLM tier drawn for this run (low / mid / high), and the model it maps to. */
  tier: LlmTier;
  model: string;
}

export type LlmTier = 'low' | 'mid' | 'high';

/** Users under this age are never treated and never asked about voting (docs/protocol.md). */
export const VOTING_AGE = 18;

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
