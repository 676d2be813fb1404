import type { ExperimentConfig } from '../src/domain/config.js';
import { toPersonas } from '../src/domain/personas.js';
import { generatePopulation } from '../src/domain/population/generate.js';
import { sampleUsers } from '../src/domain/population/sample.js';
import type { Population } from '../src/sim/engine.js';
import { DEFAULT_USERS_DIR, loadUsersDir } from '../src/users/load.js';

/** Up to 20,000 agents: sampled from the default population, as `sim run` does; beyond: generated. */
export function benchPopulation(config: ExperimentConfig): Population {
  const files = config.n_users <= 20_000 ? sampleUsers(loadUsersDir(DEFAULT_USERS_DIR), config.n_users, config.seed) : generatePopulation({ n: config.n_users, seed: config.seed });
  return { personas: toPersonas(files.profiles, config), follows: files.follows, source: files.source };
}
