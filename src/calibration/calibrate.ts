import type { LikelihoodParameters } from '../domain/offline-model.js';
import type { ProgressEvent } from '../sim/engine.js';
import { averageShapes } from './shape.js';
import { alternativeStarts, compareFit, fitLikelihood, fitLoss, modelShapes, quantileCutpoints, scatterStarts, type FitTarget } from './fit.js';
import { PARAMS_FORMAT, type ParamsFile } from './params-file.js';
import { recordSchedule, type Schedule } from './surrogate.js';
import { FIT_CONDITIONS, type Targets } from './targets.js';

export interface CalibrateOptions {
  targets: Targets;
  /** Simulation seeds (each samples its own users from the population and draws its own numbers). */
  simulationSeeds: number[];
  nUsers: number;
  usersDir?: string | null;
  start: LikelihoodParameters;
  /** Fit passes: each records the schedules with the best parameters so far, then fits on them. */
  passes?: number;
  evaluationsPerRestart?: number;
  restarts?: number;
  onProgress?: (p: CalibrateProgress) => void;
}

export type CalibrateProgress =
  | { phase: 'record'; pass: number; seed: number; engine: ProgressEvent }
  | { phase: 'fit'; pass: number; start: number; restart: number; evaluations: number; loss: number };

/**
 * Fits the offline model's likelihood parameters to a folder's shapes: records the schedules with
 * the engine, fits on the surrogate, and repeats once with the fitted parameters (the social
 * message's names depend on the answers, so the second recording is closer to the fitted model);
 * a last engine run with the fitted parameters gives the comparison the file reports.
 */
export async function calibrate(o: CalibrateOptions): Promise<ParamsFile> {
  const target: FitTarget = { rounds: o.targets.rounds, shapes: Object.fromEntries(FIT_CONDITIONS.map((c) => [c, o.targets.conditions[c].mean])) as FitTarget['shapes'] };
  let parameters = o.start;
  let fit: ReturnType<typeof fitLikelihood> | null = null;
  let totalEvaluations = 0;
  const passes = o.passes ?? 2;
  for (let pass = 1; pass <= passes; pass++) {
    const schedules: Schedule[] = [];
    for (const seed of o.simulationSeeds) {
      schedules.push(await recordSchedule({ nUsers: o.nUsers, seed, likelihood: parameters, usersDir: o.usersDir, onProgress: (engine) => o.onProgress?.({ phase: 'record', pass, seed, engine }) }));
    }
    // On the first pass, besides the given start, starts whose cutpoints give the target's first answers.
    // And, on every pass, the best three of a seeded random search (2,000 points) around those cutpoints.
    const anchored = { ...parameters, ...quantileCutpoints(schedules, target) };
    const scattered = scatterStarts((p) => fitLoss(modelShapes(schedules, p), target), pass === 1 ? anchored : parameters, 2000, 3);
    const starts = pass === 1 ? [parameters, anchored, ...alternativeStarts(anchored), ...scattered] : [parameters, ...scattered];
    fit = fitLikelihood(schedules, target, starts, {
      restarts: o.restarts ?? (pass === 1 ? 3 : 2),
      evaluationsPerRestart: o.evaluationsPerRestart ?? 600,
      stepScale: pass === 1 ? 1 : 0.5,
      onProgress: (p) => o.onProgress?.({ phase: 'fit', pass, ...p }),
    });
    totalEvaluations += fit.evaluations;
    parameters = roundParameters(fit.parameters);
  }
  // What the file reports is the engine's own run with the fitted parameters, not the surrogate's.
  const final: Schedule[] = [];
  for (const seed of o.simulationSeeds) {
    final.push(await recordSchedule({ nUsers: o.nUsers, seed, likelihood: parameters, usersDir: o.usersDir, onProgress: (engine) => o.onProgress?.({ phase: 'record', pass: passes + 1, seed, engine }) }));
  }
  const observed: FitTarget = { rounds: final[0].rounds, shapes: Object.fromEntries(FIT_CONDITIONS.map((c) => [c, averageShapes(final.map((s) => s.observed[c]))])) as FitTarget['shapes'] };
  return {
    format: PARAMS_FORMAT,
    parameters,
    fit: {
      source: o.targets.source,
      targetSeeds: o.targets.seeds,
      simulationSeeds: o.simulationSeeds,
      nUsers: o.nUsers,
      loss: fitLoss(observed, target),
      evaluations: totalEvaluations,
      comparison: compareFit(observed, target),
    },
  };
}

/** Six decimals: the file stays readable, and the rounding moves no answer measurably. */
function roundParameters(p: LikelihoodParameters): LikelihoodParameters {
  return Object.fromEntries(Object.entries(p).map(([k, v]) => [k, Math.round(v * 1e6) / 1e6])) as unknown as LikelihoodParameters;
}
