import type { ExperimentConfig } from '../src/domain/config.js';
import type { Population } from '../src/sim/engine.js';
import { testPopulation } from '../test/support/population.js';

/** The population a bench case runs on. */
export function benchPopulation(config: ExperimentConfig): Population {
  return testPopulation(config.n_users, config);
}
