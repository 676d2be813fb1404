import { describe, expect, it } from 'vitest';
import { parseExperiment } from './config.js';
import { conditionRuns, storedStreamPlan } from './stream-plan.js';

describe('the stream plan of a stored config', () => {
  it('is the resolved config itself, naming the same streams as the parsed one', () => {
    const config = parseExperiment({ seed: 4, n_runs: 2 }, 'test');
    const stored = JSON.parse(JSON.stringify(config));
    const plan = storedStreamPlan(stored);
    expect(plan).not.toBeNull();
    expect(conditionRuns(plan!)).toEqual(conditionRuns(config));
    expect(conditionRuns(plan!).map((c) => c.stream)).toEqual(['control', 'treatment_info_message', 'treatment_soc_message', 'experiment_info_message/4', 'experiment_info_message/5', 'experiment_soc_message/4', 'experiment_soc_message/5']);
  });

  it('is null for a config missing a field it needs or holding a wrong type, so the caller parses it', () => {
    const stored = JSON.parse(JSON.stringify(parseExperiment({}, 'test')));
    for (const change of [{ n_runs: undefined }, { warmup_only: 'no' }, { from_warmup: 3 }, { run_conditions: ['nope'] }, { warmup: {} }, { treatment_seed: 1.5 }]) {
      expect(storedStreamPlan({ ...stored, ...change }), JSON.stringify(change)).toBeNull();
    }
    expect(storedStreamPlan(null)).toBeNull();
    expect(storedStreamPlan('x')).toBeNull();
  });
});
