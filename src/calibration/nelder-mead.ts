/**
 * Nelder-Mead simplex minimisation (standard coefficients: reflection 1, expansion 2, contraction
 * 0.5, shrink 0.5). Deterministic: same function, start and steps give the same path. Needs no
 * gradient, so it copes with the surrogate's piecewise-constant objective (answers are integers).
 */
export interface MinimizeOptions {
  /** Initial simplex: the start plus one step along each coordinate. */
  steps: number[];
  maxEvaluations: number;
  /** Stop when the simplex's values differ by less than this. */
  tolerance?: number;
  onIteration?: (best: { x: number[]; value: number; evaluations: number }) => void;
}

export interface MinimizeResult {
  x: number[];
  value: number;
  evaluations: number;
}

export function nelderMead(f: (x: number[]) => number, start: number[], o: MinimizeOptions): MinimizeResult {
  const n = start.length;
  let evaluations = 0;
  const evaluate = (x: number[]) => {
    evaluations += 1;
    const v = f(x);
    return Number.isFinite(v) ? v : Infinity;
  };
  let simplex = [start, ...start.map((_, i) => start.map((v, j) => (i === j ? v + o.steps[i] : v)))].map((x) => ({ x, value: evaluate(x) }));
  const towards = (a: number[], b: number[], t: number) => a.map((v, i) => v + t * (b[i] - v));
  while (evaluations < o.maxEvaluations) {
    simplex.sort((a, b) => a.value - b.value);
    o.onIteration?.({ x: simplex[0].x, value: simplex[0].value, evaluations });
    if (simplex[n].value - simplex[0].value < (o.tolerance ?? 1e-9)) break;
    const centroid = start.map((_, i) => simplex.slice(0, n).reduce((s, p) => s + p.x[i], 0) / n);
    const worst = simplex[n];
    const reflected = towards(centroid, worst.x, -1);
    const r = evaluate(reflected);
    if (r < simplex[0].value) {
      const expanded = towards(centroid, worst.x, -2);
      const e = evaluate(expanded);
      simplex[n] = e < r ? { x: expanded, value: e } : { x: reflected, value: r };
    } else if (r < simplex[n - 1].value) {
      simplex[n] = { x: reflected, value: r };
    } else {
      const contracted = r < worst.value ? towards(centroid, reflected, 0.5) : towards(centroid, worst.x, 0.5);
      const c = evaluate(contracted);
      if (c < Math.min(r, worst.value)) simplex[n] = { x: contracted, value: c };
      else simplex = simplex.map((p, i) => (i === 0 ? p : { x: towards(simplex[0].x, p.x, 0.5), value: evaluate(towards(simplex[0].x, p.x, 0.5)) }));
    }
  }
  simplex.sort((a, b) => a.value - b.value);
  return { x: simplex[0].x, value: simplex[0].value, evaluations };
}
