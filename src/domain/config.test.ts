import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { conditionRuns, parseExperiment, roundsInRun } from './config.js';

function problemsOf(input: unknown): string[] {
  try {
    parseExperiment(input, 'exp.json');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('experiment config', () => {
  it('defaults to the reference protocol', () => {
    const c = parseExperiment({});
    expect(c.warmup).toEqual({ start_round: -15, end_round: 0 });
    expect(c.time_points).toEqual([10, 20, 29, 30]);
    expect(c.conditions.experiment_soc_message).toEqual({ probabilities: [0.1, 0.2, 0.5, 0.5], message: 'social' });
    expect(c.feed.length).toBe(4);
    expect(c.llm.temperature).toBe(0.5);
    expect(c.llm.tier_probabilities).toEqual({ low: 0.98, mid: 0.016, high: 0.004 });
    expect(c.run_conditions).toHaveLength(5);
  });

  it('lists every problem at once: unknown key, probability, time points, feed length, n_users', () => {
    const problems = problemsOf({
      n_userz: 5,
      n_users: 1,
      time_points: [10, 20, 15, 30],
      feed: { length: 0, interest_share: 0.6, followed_share: 0.2, trending_share: 0.15 },
      conditions: { control: { probabilities: [0, 0, 1.5, 0], message: 'none' } },
      run_conditions: ['control'],
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        '(root): unknown key "n_userz"',
        'n_users: must be at least 2',
        'feed.length: must be at least 1',
        'conditions.control.probabilities[2]: must be between 0 and 1',
      ]),
    );
    expect(problems).toHaveLength(4);
    // Cross-field rules are checked once the shapes are valid.
    expect(problemsOf({ time_points: [10, 20, 15, 30] })).toEqual(expect.arrayContaining(['time_points: must be strictly increasing (20 then 15)']));
    expect(problemsOf({ run_conditions: ['nope'] })[0]).toMatch(/unknown condition "nope"/);
  });

  it('repeats mixed conditions over treatment seeds, others once', () => {
    const runs = conditionRuns(parseExperiment({ seed: 4, n_runs: 2, run_conditions: ['control', 'experiment_info_message'] }));
    expect(runs).toEqual([
      { condition: 'control', treatmentSeed: 4, stream: 'control' },
      { condition: 'experiment_info_message', treatmentSeed: 4, stream: 'experiment_info_message/4' },
      { condition: 'experiment_info_message', treatmentSeed: 5, stream: 'experiment_info_message/5' },
    ]);
  });
});

describe('partial configs', () => {
  it('merge nested sections over the defaults', () => {
    const c = parseExperiment({ llm: { models: { low: 'llama3', mid: 'llama3', high: 'llama3' } }, feed: { length: 6 } });
    expect(c.llm.models.low).toBe('llama3');
    expect(c.llm.temperature).toBe(0.5);
    expect(c.llm.prices['gpt-4.1']).toBeDefined();
    expect(c.feed).toEqual({ length: 6, interest_share: 0.6, followed_share: 0.2, trending_share: 0.15 });
  });
  it('still refuse unknown nested keys', () => {
    expect(() => parseExperiment({ feed: { lenght: 6 } })).toThrow(/feed: unknown key "lenght"/);
  });

  it('count the rounds a run goes through: warmup, then each condition stream with its election day', () => {
    // 16 warmup rounds (-15..0); each stream: rounds 1..30 and the election day.
    expect(roundsInRun(parseExperiment({}))).toBe(16 + 5 * 31);
    expect(roundsInRun(parseExperiment({ warmup_only: true }))).toBe(16);
    expect(roundsInRun(parseExperiment({ from_warmup: 'run/1/warmup' }))).toBe(5 * 31);
    // Two treatment seeds repeat the two mixed conditions only.
    expect(roundsInRun(parseExperiment({ n_runs: 2 }))).toBe(16 + 7 * 31);
    expect(roundsInRun(parseExperiment({ warmup: { start_round: -3, end_round: 0 }, run_conditions: ['control'] }))).toBe(4 + 31);
  });
});

describe('problems in plain words', () => {
  it('rephrase zod\'s own wording and name the key, list items by index', () => {
    expect(problemsOf({ run_conditions: [] })).toEqual(['run_conditions: must list at least one item']);
    expect(problemsOf({ seed: 1e20 })).toEqual(['seed: must be at most 9007199254740991 (the largest whole number a JSON number holds exactly)']);
    expect(problemsOf({ seed: 'x' })).toEqual(['seed: must be a number (got a string)']);
    expect(problemsOf({ n_users: 1.5 })).toEqual(['n_users: must be a whole number']);
    expect(problemsOf({ topic: '' })).toEqual(['topic: must not be empty']);
    expect(problemsOf({ provider: 'x' })).toEqual(['provider: must be one of "offline", "openai"']);
    expect(problemsOf({ n_runs: 0 })).toEqual(['n_runs: must be at least 1']);
    expect(problemsOf({ time_points: [1, 'a'] })).toEqual(['time_points[1]: must be a number (got a string)']);
    expect(problemsOf({ llm: { temperature: 3 } })).toEqual(['llm.temperature: must be at most 2']);
    expect(problemsOf({ offline_params: { noiseSd: 0 } })).toContain('offline_params.noiseSd: must be greater than 0');
    expect(problemsOf({ offline_params: { noiseSd: 1 } })).toContain('offline_params.cut01: is missing (a number)');
    // A message the schema words itself is kept.
    expect(problemsOf({ n_users: 1 })).toEqual(['n_users: must be at least 2']);
    for (const p of problemsOf({ run_conditions: [], seed: 1e20, warmup: 3, provider: 1 })) expect(p).not.toMatch(/Too small|Too big|Invalid input|Invalid option|expected/);
  });
});
