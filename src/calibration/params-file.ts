import { readFileSync } from 'node:fs';
import { parseExperiment } from '../domain/config.js';
import { LIKELIHOOD_KEYS, type LikelihoodParameters } from '../domain/offline-model.js';
import { UsageError } from '../errors.js';
import type { FitComparison } from './fit.js';

/** The file `sim calibrate` writes and `sim run --offline-params` reads. */
export const PARAMS_FORMAT = 'sim-offline-params/1';

export interface ParamsFile {
  format: typeof PARAMS_FORMAT;
  /** The offline model's likelihood parameters: what a run uses (and records in its config). */
  parameters: LikelihoodParameters;
  /** How they were fitted: to what, on which simulated users, and how close the fit came. */
  fit: {
    source: string;
    targetSeeds: number[];
    simulationSeeds: number[];
    nUsers: number;
    loss: number;
    evaluations: number;
    comparison: FitComparison[];
  };
}

const LATER_KEYS: readonly string[] = ['reconsiderDownMessage', 'reconsiderOneTwo'];

/** Reads a parameter file, refusing anything that is not one, with the file and the problem named. */
export function readParamsFile(file: string, flag = '--offline-params'): LikelihoodParameters {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`${flag} ${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${flag} ${file}: not JSON (${(error as Error).message})`);
  }
  const parameters = (data as { parameters?: unknown } | null)?.parameters;
  if ((data as { format?: unknown } | null)?.format !== PARAMS_FORMAT || typeof parameters !== 'object' || parameters === null) {
    throw new UsageError(`${flag} ${file}: not a parameter file of \`sim calibrate\` (expected "format": "${PARAMS_FORMAT}" and "parameters")`);
  }
  // reconsiderDownMessage and reconsiderOneTwo came later: a file without them means the model without them (1).
  const missing = LIKELIHOOD_KEYS.filter((k) => !LATER_KEYS.includes(k) && typeof (parameters as Record<string, unknown>)[k] !== 'number');
  if (missing.length > 0) throw new UsageError(`${flag} ${file}: "parameters" lacks a number for ${missing.join(', ')}`);
  // The config's own rules (cutpoints in order, probabilities 0-1, no unknown keys) apply as well.
  return parseExperiment({ offline_params: parameters }, `${flag} ${file}`).offline_params!;
}
