import type { ExperimentConfig } from './config.js';
import type { LlmTier, Persona } from './persona.js';
import type { Rng } from './rng.js';

const TIERS: LlmTier[] = ['low', 'mid', 'high'];
type Triple = Record<LlmTier, number>;

/**
 * docs/protocol.md "Population": base tier probabilities multiplied up for education, analytic
 * occupations and age, then normalised. The first matching occupation group and age band apply.
 */
export function tierWeights(persona: Pick<Persona, 'education' | 'occupation' | 'age'>, llm: ExperimentConfig['llm']): Triple {
  const w: Triple = { ...llm.tier_probabilities };
  const multiply = (f: Triple) => {
    for (const t of TIERS) w[t] *= f[t];
  };
  const education = llm.tier_multipliers.education[persona.education.trim()];
  if (education) multiply(education);
  const occupation = persona.occupation.toLowerCase();
  const group = llm.tier_multipliers.occupation.find((g) => g.keywords.some((k) => occupation.includes(k.toLowerCase())));
  if (group) multiply(group.factors);
  const band = [...llm.tier_multipliers.age].sort((a, b) => b.min_age - a.min_age).find((b) => persona.age >= b.min_age);
  if (band) multiply(band.factors);
  const total = w.low + w.mid + w.high;
  return { low: w.low / total, mid: w.mid / total, high: w.high / total };
}

export function drawTier(persona: Pick<Persona, 'education' | 'occupation' | 'age'>, llm: ExperimentConfig['llm'], random: Rng): LlmTier {
  const w = tierWeights(persona, llm);
  const u = random.next();
  if (u < w.low) return 'low';
  if (u < w.low + w.mid) return 'mid';
  return 'high';
}
