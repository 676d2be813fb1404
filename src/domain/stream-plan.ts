/**
 * Which streams a run's config calls for, without zod: `sim status` names every stream of every run
 * and loads none of the config's schema for it (config.ts re-exports these). The types are the parts
 * of ExperimentConfig these functions read, so an ExperimentConfig is one.
 */

/** The stage (and stream name) every run starts with; conditions fork from its end. */
export const WARMUP_STREAM = 'warmup';

export interface StreamPlan {
  seed: number;
  treatment_seed: number | null;
  n_runs: number;
  warmup_only: boolean;
  from_warmup: string | null;
  run_conditions: readonly string[];
  conditions: Readonly<Record<string, { probabilities: readonly number[] }>>;
  warmup: { start_round: number; end_round: number };
}

export interface ConditionRun {
  condition: string;
  treatmentSeed: number;
  /** The stream name inside the run. */
  stream: string;
}

export function mainStartRound(c: Pick<StreamPlan, 'warmup'>): number {
  return c.warmup.end_round + 1;
}

export function treatmentSeedOf(c: Pick<StreamPlan, 'seed' | 'treatment_seed'>): number {
  return c.treatment_seed ?? c.seed;
}

/** A condition is an "experiment" (repeated over treatment seeds) when some period is neither all nor none. */
export function isMixedCondition(cond: { probabilities: readonly number[] }): boolean {
  return cond.probabilities.some((p) => p > 0 && p < 1);
}

/** Every (condition, treatment seed) the experiment runs, in config order. */
export function conditionRuns(c: StreamPlan): ConditionRun[] {
  const base = treatmentSeedOf(c);
  const out: ConditionRun[] = [];
  for (const condition of c.run_conditions) {
    const repeats = isMixedCondition(c.conditions[condition]) ? c.n_runs : 1;
    for (let r = 0; r < repeats; r++) {
      const treatmentSeed = base + r;
      out.push({ condition, treatmentSeed, stream: repeats > 1 ? `${condition}/${treatmentSeed}` : condition });
    }
  }
  return out;
}

/**
 * A recorded config (as stored: the resolved config, every default written out) read as a stream
 * plan when it has every field the plan needs with the right type; null otherwise (a config recorded
 * before a field existed), and the caller parses it with its schema instead.
 */
export function storedStreamPlan(raw: unknown): StreamPlan | null {
  const c = raw as Record<string, unknown> | null;
  if (typeof c !== 'object' || c === null) return null;
  const int = (v: unknown) => Number.isInteger(v);
  const warmup = c.warmup as Record<string, unknown> | undefined;
  const conditions = c.conditions as Record<string, { probabilities?: unknown }> | undefined;
  const ok =
    int(c.seed) &&
    (c.treatment_seed === null || int(c.treatment_seed)) &&
    int(c.n_runs) &&
    typeof c.warmup_only === 'boolean' &&
    (c.from_warmup === null || typeof c.from_warmup === 'string') &&
    typeof warmup === 'object' && warmup !== null && int(warmup.start_round) && int(warmup.end_round) &&
    Array.isArray(c.run_conditions) &&
    typeof conditions === 'object' && conditions !== null &&
    c.run_conditions.every((name) => typeof name === 'string' && Object.hasOwn(conditions, name) && Array.isArray(conditions[name]?.probabilities) && (conditions[name].probabilities as unknown[]).every((p) => typeof p === 'number'));
  return ok ? (c as unknown as StreamPlan) : null;
}
