import { z } from 'zod';
import { urlProblem } from './url.js';
import { ConfigError } from '../errors.js';
import { conditionRuns, mainStartRound, treatmentSeedOf } from './stream-plan.js';

/**
 * The experiment, as data. Defaults are the reference protocol (docs/protocol.md); every number in it is
 * a setting. Unknown keys are refused so a typo never silently runs the default.
 */
const probability = z.number().min(0, 'must be between 0 and 1').max(1, 'must be between 0 and 1');
const tierTriple = z.strictObject({ low: z.number().nonnegative(), mid: z.number().nonnegative(), high: z.number().nonnegative() });

export const conditionSchema = z.strictObject({
  /** Treatment probability per period (one per time point). */
  probabilities: z.array(probability).min(1),
  message: z.enum(['none', 'informational', 'social']),
});
export type ConditionConfig = z.infer<typeof conditionSchema>;

const INFORMATIONAL_STIMULUS = 'VOTE OR BE SILENCED! One ballot = one voice. Use yours.';

const DEFAULT_CONDITIONS: Record<string, ConditionConfig> = {
  control: { probabilities: [0, 0, 0, 0], message: 'none' },
  treatment_info_message: { probabilities: [1, 1, 1, 1], message: 'informational' },
  treatment_soc_message: { probabilities: [1, 1, 1, 1], message: 'social' },
  experiment_info_message: { probabilities: [0.2, 0.4, 0.8, 0.8], message: 'informational' },
  experiment_soc_message: { probabilities: [0.1, 0.2, 0.5, 0.5], message: 'social' },
  control_then_info: { probabilities: [0, 0, 0, 1], message: 'informational' },
  control_then_soc: { probabilities: [0, 0, 0, 1], message: 'social' },
};

export const DEFAULT_RUN_CONDITIONS = [
  'control',
  'treatment_info_message',
  'treatment_soc_message',
  'experiment_info_message',
  'experiment_soc_message',
];

const multipliers = z.strictObject({
  education: z.record(z.string(), tierTriple),
  occupation: z.array(z.strictObject({ keywords: z.array(z.string()).min(1), factors: tierTriple })),
  age: z.array(z.strictObject({ min_age: z.number().int(), factors: tierTriple })),
});

export const experimentSchema = z.strictObject({
  n_users: z.number().int().min(2, 'must be at least 2').default(1000),
  seed: z.number().int().default(1),
  /** Seeds treatment assignment only; defaults to the simulation seed. */
  treatment_seed: z.number().int().nullable().default(null),
  /** Conditions with a probability strictly between 0 and 1 repeat with treatment seeds ts, ts+1, ... */
  n_runs: z.number().int().min(1).default(1),
  topic: z.string().min(1).default('Politics'),
  /** Record the warmup only (the reference's --skip_main); conditions can fork from it later. */
  warmup_only: z.boolean().default(false),
  /** Run the conditions from another run's recorded warmup (its stream id), instead of recording one. */
  from_warmup: z.string().nullable().default(null),
  /** What made the decisions: the offline persona model or an OpenAI-compatible LLM server. */
  provider: z.enum(['offline', 'openai']).default('offline'),
  /** The OpenAI-compatible endpoint (null: api.openai.com). Never holds a key. */
  base_url: z.string().nullable().default(null),
  /**
   * The offline model's fitted likelihood parameters (a `sim calibrate` parameter file's
   * "parameters"); null: the built-in ones. `sim run` records the values used, so replay uses them.
   */
  offline_params: z
    .strictObject({
      cut01: z.number(),
      cut12: z.number(),
      cut23: z.number(),
      cut34: z.number(),
      noiseSd: z.number().positive(),
      reconsider: probability,
      reconsiderInformational: z.number().min(-1).max(1),
      reconsiderSocial: z.number().min(-1).max(1),
      // These two are absent in runs recorded before they existed: 1 is the model they ran.
      reconsiderDownMessage: probability.default(1),
      reconsiderOneTwo: probability.default(1),
      drift: z.number(),
      informationalBoost: z.number(),
      socialBoost: z.number(),
    })
    .nullable()
    .default(null),
  /** Folder with profiles.csv and network.csv; null means the bundled default population. */
  users_dir: z.string().nullable().default(null),
  warmup: z.strictObject({ start_round: z.number().int(), end_round: z.number().int() }).default({ start_round: -15, end_round: 0 }),
  /** The main stage runs from warmup.end_round + 1 to the last time point, which is election day. */
  time_points: z.array(z.number().int()).min(1).default([10, 20, 29, 30]),
  conditions: z.record(z.string(), conditionSchema).default(DEFAULT_CONDITIONS),
  run_conditions: z.array(z.string()).min(1).default(DEFAULT_RUN_CONDITIONS),
  feed: z
    .strictObject({
      length: z.number().int().min(1, 'must be at least 1'),
      interest_share: probability,
      followed_share: probability,
      trending_share: probability,
    })
    .default({ length: 4, interest_share: 0.6, followed_share: 0.2, trending_share: 0.15 }),
  ranking: z
    .strictObject({ followed_author: z.number(), per_followed_engagement: z.number(), per_engagement: z.number() })
    .default({ followed_author: 100, per_followed_engagement: 10, per_engagement: 1 }),
  content: z
    .strictObject({
      invite_probability: probability,
      topic_from_feed_probability: probability,
      max_chars: z.number().int().min(1),
      initial_posts: z.number().int().min(0),
      latest_reply_chars: z.number().int().min(0),
    })
    .default({ invite_probability: 0.01, topic_from_feed_probability: 0.7, max_chars: 140, initial_posts: 20, latest_reply_chars: 140 }),
  activity: z
    .strictObject({ min_interval: z.number().int().min(1), max_interval: z.number().int().min(1) })
    .default({ min_interval: 1, max_interval: 5 }),
  messages: z
    .strictObject({
      informational: z.string().min(1),
      social_max_friends: z.number().int().min(0),
      /** A likely voter states at least this likelihood. */
      likely_voter_threshold: z.number().int().min(0).max(4),
    })
    .default({ informational: INFORMATIONAL_STIMULUS, social_max_friends: 6, likely_voter_threshold: 3 }),
  llm: z
    .strictObject({
      temperature: z.number().min(0).max(2),
      tier_probabilities: tierTriple,
      tier_multipliers: multipliers,
      models: z.strictObject({ low: z.string(), mid: z.string(), high: z.string() }),
      /** USD per million tokens, per model; used for cost estimates and the spending cap. */
      prices: z.record(z.string(), z.strictObject({ input: z.number().nonnegative(), cached_input: z.number().nonnegative(), output: z.number().nonnegative() })),
      /**
       * The spending cap in USD (`--max-cost`; null: none): the run stops at a round boundary before
       * its spend at `prices` would pass it. Not part of the run's identity: `sim resume --max-cost`
       * raises it, and the results are those of an uncapped run.
       */
      max_cost_usd: z.number().min(0, 'must be 0 or more (USD)').nullable().default(null),
      /**
       * Several OpenAI-compatible servers (empty: base_url, or api.openai.com). Where requests go is
       * not part of a run's identity: `sim resume --base-url` may point a run elsewhere.
       */
      endpoints: z
        .array(
          z.strictObject({
            url: z.string(),
            /** The environment variable holding this endpoint's key (default: OPENAI_API_KEY). */
            api_key_env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name').optional(),
            /** The models it serves (default: all). */
            models: z.array(z.string()).min(1).optional(),
            max_concurrency: z.number().int().min(1).optional(),
            weight: z.number().positive().optional(),
          }),
        )
        .default([]),
    })
    .default({
      temperature: 0.5,
      tier_probabilities: { low: 0.98, mid: 0.016, high: 0.004 },
      tier_multipliers: {
        education: {
          Doctorate: { high: 3, mid: 1.5, low: 0.5 },
          Masters: { high: 2, mid: 1.3, low: 0.7 },
          Bachelors: { high: 1.5, mid: 1.2, low: 0.8 },
        },
        occupation: [
          { keywords: ['professor', 'researcher', 'scientist', 'engineer', 'analyst'], factors: { high: 2, mid: 1.3, low: 0.7 } },
          { keywords: ['manager', 'director', 'specialist', 'consultant'], factors: { high: 1.5, mid: 1.2, low: 0.8 } },
        ],
        age: [
          { min_age: 40, factors: { high: 1.5, mid: 1.2, low: 0.8 } },
          { min_age: 30, factors: { high: 1.3, mid: 1.1, low: 0.9 } },
        ],
      },
      models: { low: 'gpt-4.1-nano', mid: 'gpt-4.1-mini', high: 'gpt-4.1' },
      prices: {
        'gpt-4.1-nano': { input: 0.1, cached_input: 0.025, output: 0.4 },
        'gpt-4.1-mini': { input: 0.4, cached_input: 0.1, output: 1.6 },
        'gpt-4.1': { input: 2, cached_input: 0.5, output: 8 },
      },
      max_cost_usd: null,
      endpoints: [],
    }),
});

export type ExperimentConfig = z.infer<typeof experimentSchema>;

/** Validates a config and lists every problem (zod's and the cross-field rules below). */
export function parseExperiment(input: unknown, source = 'config'): ExperimentConfig {
  // A config names only what it changes: nested sections merge over the defaults ({"llm": {"models":
  // ...}} keeps the default temperature and prices). Arrays are replaced whole.
  const parsed = experimentSchema.safeParse(mergeOver(DEFAULTS, input ?? {}));
  if (!parsed.success) {
    throw new ConfigError(source, parsed.error.issues.map((i) => `${pathOf(i.path)}: ${describeIssue(i)}`));
  }
  const problems = crossFieldProblems(parsed.data);
  if (problems.length > 0) throw new ConfigError(source, problems);
  return parsed.data;
}

const DEFAULTS: ExperimentConfig = experimentSchema.parse({});

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function mergeOver(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return over;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) out[key] = key in base ? mergeOver(base[key], value) : value;
  return out;
}

/** A config path as a user writes it: `conditions.control.probabilities[0]`, or "(root)". */
export function pathOf(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : `${out ? '.' : ''}${String(part)}`;
  return out || '(root)';
}

const TYPE_WORDS: Record<string, string> = {
  number: 'a number',
  int: 'a whole number',
  string: 'a string',
  boolean: 'true or false',
  object: 'an object ({...})',
  record: 'an object ({...})',
  array: 'a list ([...])',
};

/**
 * One problem in plain words. A message written in the schema (e.g. "must be between 0 and 1") is
 * kept; zod's own wording ("Too small: expected array to have >=1 items") is rephrased.
 */
export function describeIssue(issue: z.core.$ZodIssue): string {
  const own = !/^(Too small|Too big|Invalid input|Invalid option|Invalid string|Invalid element)/.test(issue.message);
  switch (issue.code) {
    case 'unrecognized_keys':
      return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    case 'too_small': {
      if (own) return issue.message;
      const min = Number(issue.minimum);
      if (issue.origin === 'array') return min === 1 ? 'must list at least one item' : `must list at least ${min} items`;
      if (issue.origin === 'string') return min === 1 ? 'must not be empty' : `must have at least ${min} characters`;
      return issue.inclusive === false ? `must be greater than ${min}` : `must be at least ${min}`;
    }
    case 'too_big': {
      if (own) return issue.message;
      const max = Number(issue.maximum);
      if (issue.origin === 'array') return `must list at most ${max} items`;
      if (issue.origin === 'string') return `must have at most ${max} characters`;
      if (max === Number.MAX_SAFE_INTEGER) return `must be at most ${max} (the largest whole number a JSON number holds exactly)`;
      return issue.inclusive === false ? `must be less than ${max}` : `must be at most ${max}`;
    }
    case 'invalid_type': {
      if (own) return issue.message;
      const received = /received (\w+)/.exec(issue.message)?.[1];
      const wanted = TYPE_WORDS[issue.expected] ?? issue.expected;
      if (received === 'undefined') return `is missing (${wanted})`;
      if (issue.expected === 'int' && received === 'number') return 'must be a whole number';
      return `must be ${wanted}${received ? ` (got ${received === 'null' ? 'null' : TYPE_WORDS[received] ?? received})` : ''}`;
    }
    case 'invalid_value':
      if (own) return issue.message;
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return issue.message;
  }
}

function crossFieldProblems(c: ExperimentConfig): string[] {
  const problems: string[] = [];
  const tp = c.time_points;
  for (let i = 1; i < tp.length; i++) {
    if (tp[i] <= tp[i - 1]) problems.push(`time_points: must be strictly increasing (${tp[i - 1]} then ${tp[i]})`);
  }
  if (c.base_url !== null && urlProblem(c.base_url)) problems.push(`base_url: ${urlProblem(c.base_url)}`);
  c.llm.endpoints.forEach((e, i) => {
    const problem = urlProblem(e.url);
    if (problem) problems.push(`llm.endpoints[${i}].url: ${problem}`);
  });
  if (c.llm.endpoints.length > 0) {
    for (const model of new Set(Object.values(c.llm.models))) {
      if (!c.llm.endpoints.some((e) => !e.models || e.models.includes(model))) problems.push(`llm.endpoints: no endpoint serves model "${model}" (llm.models)`);
    }
  }
  if (c.warmup.end_round < c.warmup.start_round) problems.push('warmup: end_round must not be before start_round');
  if (tp[0] <= c.warmup.end_round) problems.push(`time_points: the first time point (${tp[0]}) must come after the warmup's last round (${c.warmup.end_round})`);
  for (const [name, cond] of Object.entries(c.conditions)) {
    if (cond.probabilities.length !== tp.length) {
      problems.push(`conditions.${name}.probabilities: has ${cond.probabilities.length} values but there are ${tp.length} time points`);
    }
    if (cond.message === 'none' && cond.probabilities.some((p) => p > 0)) {
      problems.push(`conditions.${name}: treats users (a probability > 0) but its message is "none"`);
    }
  }
  const seen = new Set<string>();
  for (const name of c.run_conditions) {
    if (!(name in c.conditions)) problems.push(`run_conditions: unknown condition "${name}" (known: ${Object.keys(c.conditions).join(', ')})`);
    if (seen.has(name)) problems.push(`run_conditions: "${name}" is listed twice`);
    seen.add(name);
  }
  const shares = c.feed.interest_share + c.feed.followed_share + c.feed.trending_share;
  if (shares > 1 + 1e-9) problems.push(`feed: interest_share + followed_share + trending_share is ${shares}, more than 1`);
  if (c.activity.max_interval < c.activity.min_interval) problems.push('activity: max_interval must not be below min_interval');
  const o = c.offline_params;
  if (o && !(o.cut01 <= o.cut12 && o.cut12 <= o.cut23 && o.cut23 <= o.cut34)) problems.push('offline_params: the cutpoints must be in order (cut01 <= cut12 <= cut23 <= cut34)');
  const tierSum = c.llm.tier_probabilities.low + c.llm.tier_probabilities.mid + c.llm.tier_probabilities.high;
  if (tierSum <= 0) problems.push('llm.tier_probabilities: must not all be 0');
  return problems;
}

// ---- derived facts ------------------------------------------------------------------------------

// Which streams a run calls for: in a module without zod (`sim status` reads them), used here too.
export { conditionRuns, isMixedCondition, mainStartRound, treatmentSeedOf, WARMUP_STREAM, type ConditionRun } from './stream-plan.js';

export function electionRound(c: ExperimentConfig): number {
  return c.time_points[c.time_points.length - 1];
}

/** 1-based treatment period of a main-stage round: period k covers (time_points[k-2], time_points[k-1]]. */
export function periodOf(c: ExperimentConfig, round: number): number {
  const index = c.time_points.findIndex((t) => round <= t);
  return index === -1 ? c.time_points.length : index + 1;
}

/** The first round of a period. */
export function periodStart(c: ExperimentConfig, period: number): number {
  return period === 1 ? mainStartRound(c) : c.time_points[period - 2] + 1;
}

/** Rounds a run goes through, election days counted as one round each: the total that progress counts to. */
export function roundsInRun(c: ExperimentConfig): number {
  const warmup = c.from_warmup ? 0 : c.warmup.end_round - c.warmup.start_round + 1;
  const perCondition = electionRound(c) - mainStartRound(c) + 2;
  return warmup + (c.warmup_only ? 0 : conditionRuns(c).length * perCondition);
}

export { urlProblem };
