import type { Population } from '../../src/sim/engine.js';
import { parseExperiment, type ExperimentConfig } from '../../src/domain/config.js';
import { toPersonas } from '../../src/domain/personas.js';
import type { ProfileRow } from '../../src/domain/population/types.js';
import { rng } from '../../src/domain/rng.js';

const EDUCATION = ['HS-grad', 'Some-college', 'Bachelors', 'Masters', 'Doctorate', '11th'];
const STANCES = ['very liberal', 'liberal', 'slightly liberal', 'moderate', 'slightly conservative', 'conservative', 'very conservative'];
const INTERESTS = ['Politics', 'Technology', 'Sports', 'Health', 'Music'];

/** A small hand-rolled population for engine tests (independent of the users_data generator). */
export function testProfiles(n: number, seed = 1): ProfileRow[] {
  return Array.from({ length: n }, (_, i) => {
    const r = rng(seed, 'test-population', 0, i, 'profile');
    const age = i % 10 === 9 ? 15 : r.int(18, 80);
    return {
      userId: i,
      age,
      sex: r.pick(['Male', 'Female']),
      race: 'White',
      education: r.pick(EDUCATION),
      occupation: r.pick(['Sales', 'Tech-support', 'Exec-managerial']),
      workclass: 'Private',
      maritalStatus: r.pick(['Married-civ-spouse', 'Never-married', 'Divorced']),
      relationship: 'Husband',
      nativeCountry: 'United-States',
      hoursPerWeek: r.int(10, 60),
      politicalStance: r.pick(STANCES),
      interests: ['Politics', r.pick(INTERESTS.slice(1))],
      closeFriends: [],
      publicProfile: `User ${i}, ${age}`,
    };
  });
}

/** k distinct random follows per user (never oneself), sorted: a simple test network. */
export function testFollows(n: number, seed: number, k: number): Array<[number, number]> {
  const follows: Array<[number, number]> = [];
  for (let i = 0; i < n; i++) {
    const r = rng(seed, 'test-network', 0, i, 'follows');
    const targets = new Set<number>();
    while (targets.size < Math.min(k, n - 1)) {
      const t = r.int(0, n - 1);
      if (t !== i) targets.add(t);
    }
    for (const t of [...targets].sort((a, b) => a - b)) follows.push([i, t]);
  }
  return follows;
}

export function testPopulation(n: number, config: ExperimentConfig, seed = 1): Population {
  return { personas: toPersonas(testProfiles(n, seed), config), follows: testFollows(n, seed, 5), source: `test population of ${n}` };
}

export function smallConfig(overrides: Record<string, unknown> = {}): ExperimentConfig {
  return parseExperiment({ n_users: 40, seed: 3, ...overrides });
}
