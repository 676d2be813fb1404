import type { ExperimentConfig } from './config.js';
import { workScheduleFromHours, type Persona } from './persona.js';
import { rng } from './rng.js';
import type { ProfileRow } from './population/types.js';
import { drawTier } from './tiers.js';

/**
 * The personas of a run: each profile with its work schedule (derived when absent) and an LLM tier
 * drawn from its own stream, mapped to a model unless the profile names one.
 */
export function toPersonas(profiles: readonly ProfileRow[], config: ExperimentConfig): Persona[] {
  return profiles.map((p) => {
    const tier = drawTier(p, config.llm, rng(config.seed, 'setup', 0, p.userId, 'tier'));
    return {
      id: p.userId,
      age: p.age,
      sex: p.sex,
      race: p.race,
      education: p.education,
      occupation: p.occupation,
      workclass: p.workclass,
      maritalStatus: p.maritalStatus,
      relationship: p.relationship,
      nativeCountry: p.nativeCountry,
      hoursPerWeek: p.hoursPerWeek,
      politicalStance: p.politicalStance,
      interests: p.interests,
      closeFriends: p.closeFriends,
      publicProfile: p.publicProfile,
      workSchedule: p.workSchedule && p.workSchedule.trim() !== '' ? p.workSchedule : workScheduleFromHours(p.hoursPerWeek),
      tier,
      model: p.model && p.model.trim() !== '' ? p.model : config.llm.models[tier],
    };
  });
}
