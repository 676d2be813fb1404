import type { LikelihoodParameters } from '../domain/offline-model.js';
import { rng } from '../domain/rng.js';
import { nelderMead } from './nelder-mead.js';
import { averageShapes, totalVariation, type ConditionShape } from './shape.js';
import { replayShape, type Schedule } from './surrogate.js';
import { FIT_CONDITIONS, type FitCondition } from './targets.js';

/** What a fit is compared with: one shape per condition, on a list of rounds. */
export interface FitTarget {
  rounds: number[];
  shapes: Record<FitCondition, ConditionShape>;
}

/** The rounds whose mean-by-round curve is a target (the first rounds depend on who answers first). */
export const CURVE_ROUNDS = { from: -10, to: 30 };

/**
 * How far a model's shapes are from the target, each term in units of what counts as close: 0.02
 * per answer share, 0.2 points of change rate (0.4 in the warmup), 0.05 of the share of changes
 * that go up (these two pin the noise against the drift) and of those between 1 and 2 (which pins
 * reconsiderOneTwo), 0.01 on the curve (0.015 for its largest
 * gap), 0.003 on the mean and the effects.
 */
export function fitLoss(model: FitTarget, target: FitTarget): number {
  let loss = 0;
  const sq = (d: number, unit: number) => (d / unit) ** 2;
  const pairs = curvePairs(model, target);
  for (const c of FIT_CONDITIONS) {
    const m = model.shapes[c];
    const t = target.shapes[c];
    for (let k = 0; k < 5; k++) loss += sq(m.first[k] - t.first[k], 0.02) + sq(m.final[k] - t.final[k], 0.02);
    loss += sq(m.changeRate - t.changeRate, 0.002) + sq(m.warmupChangeRate - t.warmupChangeRate, 0.004) + sq(m.upShare - t.upShare, 0.05) + sq(m.oneTwoShare - t.oneTwoShare, 0.05);
    const gaps = pairs.map(([i, j]) => (m.byRound[i] ?? 0) - (t.byRound[j] ?? 0));
    // The mean square follows the whole curve; the largest gap keeps every round close.
    loss += gaps.reduce((s, g) => s + sq(g, 0.01), 0) / Math.max(1, gaps.length) + sq(Math.max(0, ...gaps.map(Math.abs)), 0.015);
    loss += sq(m.meanFinal - t.meanFinal, 0.003);
    // Steep walls just inside the acceptance limits (docs/offline-model.md: distributions within
    // 0.05 total variation, change rate within 1 point, curve within 0.03), so that no single
    // target is traded away for the others.
    loss += over(totalVariation(m.first, t.first), 0.04, 0.005) + over(totalVariation(m.final, t.final), 0.04, 0.005);
    loss += over(Math.abs(m.changeRate - t.changeRate), 0.006, 0.001) + over(Math.max(0, ...gaps.map(Math.abs)), 0.025, 0.005);
    if (c !== 'control') {
      // The effects are small (the informational one about +0.01): in units of 0.003, with a wall beyond 0.004.
      const gap = m.meanFinal - model.shapes.control.meanFinal - (t.meanFinal - target.shapes.control.meanFinal);
      loss += sq(gap, 0.003) + over(Math.abs(gap), 0.004, 0.001);
    }
  }
  return loss;
}

const over = (x: number, limit: number, unit: number) => (x > limit ? ((x - limit) / unit) ** 2 : 0);

/** Index pairs (model, target) of the curve rounds both have. */
function curvePairs(model: FitTarget, target: FitTarget): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  model.rounds.forEach((r, i) => {
    const j = target.rounds.indexOf(r);
    if (r >= CURVE_ROUNDS.from && r <= CURVE_ROUNDS.to && j >= 0) out.push([i, j]);
  });
  return out;
}

/** The model's shapes on recorded schedules (averaged over their seeds). */
export function modelShapes(schedules: readonly Schedule[], P: LikelihoodParameters): FitTarget {
  const shapes = {} as FitTarget['shapes'];
  for (const c of FIT_CONDITIONS) shapes[c] = averageShapes(schedules.map((s) => replayShape(s.conditions[c], s.rounds.length, P)));
  return { rounds: schedules[0].rounds, shapes };
}

/**
 * The optimiser's coordinates: cutpoints as the first one plus log gaps (so they stay in order),
 * the noise as a log, probabilities (and the two factors) as logits; drift and boosts as they are.
 */
export function encode(P: LikelihoodParameters): number[] {
  return [
    P.cut01,
    Math.log(P.cut12 - P.cut01),
    Math.log(P.cut23 - P.cut12),
    Math.log(P.cut34 - P.cut23),
    Math.log(P.noiseSd),
    logit(P.reconsider),
    P.reconsiderInformational,
    P.reconsiderSocial,
    logit(P.reconsiderDownMessage),
    logit(P.reconsiderOneTwo),
    P.drift,
    P.informationalBoost,
    P.socialBoost,
  ];
}

export function decode(x: readonly number[]): LikelihoodParameters {
  const cut12 = x[0] + Math.exp(x[1]);
  const cut23 = cut12 + Math.exp(x[2]);
  return {
    cut01: x[0],
    cut12,
    cut23,
    cut34: cut23 + Math.exp(x[3]),
    noiseSd: Math.exp(x[4]),
    reconsider: sigmoid(x[5]),
    reconsiderInformational: clampShift(x[6]),
    reconsiderSocial: clampShift(x[7]),
    reconsiderDownMessage: sigmoid(x[8]),
    reconsiderOneTwo: sigmoid(x[9]),
    drift: x[10],
    informationalBoost: x[11],
    socialBoost: x[12],
  };
}

const logit = (p: number) => Math.log(Math.max(p, 1e-6) / Math.max(1 - p, 1e-6));
const clampShift = (x: number) => Math.min(1, Math.max(-1, x));
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

export interface FitOptions {
  /** Simplex restarts from the best point so far (Nelder-Mead stalls in flat, stepped landscapes). */
  restarts: number;
  evaluationsPerRestart: number;
  /** Step of the initial simplex in each coordinate, shrinking by half at each restart. */
  stepScale?: number;
  onProgress?: (p: { start: number; restart: number; evaluations: number; loss: number }) => void;
}

export interface FitResult {
  parameters: LikelihoodParameters;
  loss: number;
  evaluations: number;
  model: FitTarget;
}

/**
 * Starting points besides the given one: the same cutpoints with little momentary noise and frequent
 * reconsidering, and in between; and one where the social message mostly shifts the latent. Both kinds of model reproduce the marginal shapes; which one fits
 * the dynamics depends on the target, and the simplex does not cross from one to the other.
 */
export function alternativeStarts(start: LikelihoodParameters): LikelihoodParameters[] {
  return [
    { ...start, noiseSd: 0.2, reconsider: 0.2, reconsiderInformational: 0, reconsiderSocial: 0.3, drift: 0.3, reconsiderDownMessage: 0.5, reconsiderOneTwo: 0.3 },
    { ...start, noiseSd: 0.1, reconsider: 0.5, reconsiderInformational: 0, reconsiderSocial: 0.3, drift: 0.2, socialBoost: 0.3, reconsiderDownMessage: 0.5, reconsiderOneTwo: 0.3 },
    { ...start, noiseSd: 0.35, reconsider: 0.08, reconsiderInformational: 0, reconsiderSocial: 0.6, drift: 0.25, socialBoost: 0.15, reconsiderDownMessage: 0.5, reconsiderOneTwo: 0.3 },
    // The social message as a shift of the latent more than as readiness to raise the answer.
    { ...start, noiseSd: 0.25, reconsider: 0.15, reconsiderInformational: 0, reconsiderSocial: 0.1, drift: 0.3, socialBoost: 0.5, reconsiderDownMessage: 0.5, reconsiderOneTwo: 0.5 },
  ];
}

/**
 * Cutpoints that give the target's first answers if there were no momentary noise: the quantiles of
 * the simulated users' propensities (first statements, in the warmup, where no drift or message
 * applies) at the target's cumulative shares of 0, 0-1, 0-2 and 0-3. A start from them is near the
 * right shape whatever the starting parameters were, so a fit can reach targets far from them.
 */
export function quantileCutpoints(schedules: readonly Schedule[], target: FitTarget): Pick<LikelihoodParameters, 'cut01' | 'cut12' | 'cut23' | 'cut34'> {
  const values: number[] = [];
  for (const schedule of schedules) {
    const s = schedule.conditions.control;
    for (let a = 0; a + 1 < s.agentStart.length; a++) values.push(s.persona[s.agentStart[a]]);
  }
  values.sort((x, y) => x - y);
  const first = target.shapes.control.first;
  const at = (share: number) => {
    // At least a few users below each cutpoint and above the last, so that none sits outside the data.
    const q = Math.min(Math.max(share, 0.002), 0.998);
    return values[Math.min(values.length - 1, Math.floor(q * values.length))];
  };
  const cum = [first[0], first[0] + first[1], first[0] + first[1] + first[2], first[0] + first[1] + first[2] + first[3]];
  const cuts = cum.map(at);
  // Keep them strictly in order (the optimiser's coordinates are log gaps).
  for (let k = 1; k < 4; k++) cuts[k] = Math.max(cuts[k], cuts[k - 1] + 0.01);
  return { cut01: cuts[0], cut12: cuts[1], cut23: cuts[2], cut34: cuts[3] };
}

/**
 * A seeded random search before the simplex: `count` points around the anchored cutpoints (each
 * within 0.3) with the other parameters drawn across their plausible ranges; the best `keep` become
 * further starting points. Nelder-Mead alone stalls in a basin of the stepped, walled loss when the
 * target is far from every fixed start (the recovery test's parameters were).
 */
export function scatterStarts(f: (p: LikelihoodParameters) => number, anchored: LikelihoodParameters, count: number, keep: number): LikelihoodParameters[] {
  const r = rng(0, 'calibrate', 0, 0, 'scatter');
  const u = (lo: number, hi: number) => lo + (hi - lo) * r.next();
  const scored: Array<{ p: LikelihoodParameters; loss: number }> = [];
  for (let i = 0; i < count; i++) {
    const cuts = [anchored.cut01, anchored.cut12, anchored.cut23, anchored.cut34].map((c) => c + u(-0.3, 0.3)).sort((a, b) => a - b);
    const p: LikelihoodParameters = {
      cut01: cuts[0],
      cut12: Math.max(cuts[1], cuts[0] + 0.01),
      cut23: Math.max(cuts[2], cuts[1] + 0.02),
      cut34: Math.max(cuts[3], cuts[2] + 0.03),
      noiseSd: Math.exp(u(Math.log(0.05), Math.log(0.6))),
      reconsider: u(0.05, 0.7),
      reconsiderInformational: u(-0.1, 0.3),
      reconsiderSocial: u(-0.1, 0.8),
      reconsiderDownMessage: u(0.05, 0.99),
      reconsiderOneTwo: u(0.05, 0.99),
      drift: u(-0.2, 0.8),
      informationalBoost: u(-0.2, 0.4),
      socialBoost: u(-0.2, 0.9),
    };
    scored.push({ p, loss: f(p) });
  }
  return scored.sort((a, b) => a.loss - b.loss).slice(0, keep).map((x) => x.p);
}

export function fitLikelihood(schedules: readonly Schedule[], target: FitTarget, start: LikelihoodParameters | LikelihoodParameters[], o: FitOptions): FitResult {
  const f = (x: number[]) => fitLoss(modelShapes(schedules, decode(x)), target);
  const starts = (Array.isArray(start) ? start : [start]).map((p) => encode(p));
  let evaluations = 0;
  let best: { x: number[]; value: number } | null = null;
  for (const [index, x0] of starts.entries()) {
    const result = fitFrom(f, x0, o, index, evaluations);
    evaluations += result.evaluations;
    if (best === null || result.value < best.value) best = result;
  }
  const parameters = decode(best!.x);
  return { parameters, loss: best!.value, evaluations, model: modelShapes(schedules, parameters) };
}

function fitFrom(f: (x: number[]) => number, start: number[], o: FitOptions, startIndex: number, before: number): { x: number[]; value: number; evaluations: number } {
  let x = start;
  let evaluations = 1;
  let value = f(x);
  const base = [0.3, 0.4, 0.4, 0.4, 0.3, 0.5, 0.02, 0.03, 0.5, 0.5, 0.3, 0.1, 0.2].map((s) => s * (o.stepScale ?? 1));
  for (let restart = 0; restart < o.restarts; restart++) {
    const steps = base.map((s) => s / 2 ** restart);
    const result = nelderMead(f, x, {
      steps,
      maxEvaluations: o.evaluationsPerRestart,
      onIteration: (b) => {
        if (b.evaluations % 50 < 2) o.onProgress?.({ start: startIndex, restart, evaluations: before + evaluations + b.evaluations, loss: b.value });
      },
    });
    evaluations += result.evaluations;
    if (result.value <= value) ({ x, value } = result);
  }
  return { x, value, evaluations };
}

/** Target against fitted, per condition: what `sim calibrate` prints and the parameter file keeps. */
export interface FitComparison {
  condition: FitCondition;
  firstTv: number;
  finalTv: number;
  changeRate: { target: number; fitted: number };
  meanFinal: { target: number; fitted: number };
  effect: { target: number; fitted: number } | null;
  /** Largest |fitted - target| of the mean-by-round curve over CURVE_ROUNDS. */
  curveMaxGap: number;
}

export function compareFit(model: FitTarget, target: FitTarget): FitComparison[] {
  const pairs = curvePairs(model, target);
  return FIT_CONDITIONS.map((c) => {
    const m = model.shapes[c];
    const t = target.shapes[c];
    return {
      condition: c,
      firstTv: totalVariation(m.first, t.first),
      finalTv: totalVariation(m.final, t.final),
      changeRate: { target: t.changeRate, fitted: m.changeRate },
      meanFinal: { target: t.meanFinal, fitted: m.meanFinal },
      effect: c === 'control' ? null : { target: t.meanFinal - target.shapes.control.meanFinal, fitted: m.meanFinal - model.shapes.control.meanFinal },
      curveMaxGap: Math.max(0, ...pairs.map(([i, j]) => Math.abs((m.byRound[i] ?? 0) - (t.byRound[j] ?? 0)))),
    };
  });
}
