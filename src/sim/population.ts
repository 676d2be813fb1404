import type { ExperimentConfig } from '../domain/config.js';
import { toPersonas } from '../domain/personas.js';
import { sampledIds, sampleUsers } from '../domain/population/sample.js';
import { DEFAULT_USERS_DIR, loadUsersDir } from '../users/load.js';
import type { Population } from './engine.js';

/**
 * The run's population: the user files (the bundled default or --users-dir), validated whole
 * before anything is written, then n_users sampled with the run's seed keeping the edges among them.
 */
export function loadPopulation(config: ExperimentConfig): Population {
  const dir = config.users_dir ?? DEFAULT_USERS_DIR;
  // Only the sample's edges are kept (the whole network is still validated).
  const files = loadUsersDir(dir, (profiles) => sampledIds(profiles, config.n_users, config.seed));
  const sample = sampleUsers(files, config.n_users, config.seed);
  return {
    personas: toPersonas(sample.profiles, config),
    follows: sample.follows,
    source: `${config.users_dir ?? 'users_data (default population)'}: ${config.n_users} of ${files.profiles.length} users, seed ${config.seed}`,
  };
}
