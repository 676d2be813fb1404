import { readParamsFile } from '../calibration/params-file.js';
import type { ExperimentConfig } from '../domain/config.js';
import { DEFAULT_LIKELIHOOD } from '../domain/offline-model.js';
import { UsageError } from '../errors.js';

/**
 * Puts the offline model's parameters in the run's config: the file's, else the config's own
 * `offline_params`, else the built-in ones written out, so the recorded config always says which
 * parameters made the answers and a replay by a later version of sim uses the same.
 */
export function withOfflineParams(config: ExperimentConfig, file: string | undefined): ExperimentConfig {
  if (file !== undefined && config.provider !== 'offline') throw new UsageError(`--offline-params: only for the offline model (the provider is ${config.provider})`);
  if (config.provider !== 'offline') return config;
  const params = file !== undefined ? readParamsFile(file) : (config.offline_params ?? { ...DEFAULT_LIKELIHOOD });
  return { ...config, offline_params: params };
}
