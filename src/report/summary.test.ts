import { describe, expect, it } from 'vitest';
import type { ConditionFigures, Report } from './build.js';
import { pooledEffectsTable, resultsSummaryTable } from './summary.js';

const figures = (condition: string, meanFinalLikelihood: number | null, turnout: number | null) => ({ condition, meanFinalLikelihood, turnout }) as ConditionFigures;
const report = (conditions: ConditionFigures[]) => ({ conditions }) as Report;

describe('the result_data summary table', () => {
  it('averages each condition over the seeds, in the order conditions first appear', () => {
    const table = resultsSummaryTable(
      [report([figures('control', 2.5, 0.6), figures('treatment_soc_message', 2.6, 0.62)]), report([figures('control', 2.53, 0.605), figures('treatment_soc_message', 2.65, null)])],
      { control: 2.516 },
    );
    expect(table.split('\n')).toEqual([
      '| condition | mean final likelihood | turnout | reference (LLM-SocioPol) mean final likelihood |',
      '| --- | --- | --- | --- |',
      '| control | 2.515 | 60.3% | 2.516 |',
      '| treatment_soc_message | 2.625 | 62.0% | - |',
      '',
    ]);
  });
});

describe('the result_data pooled effects table', () => {
  it('writes paired and unpaired pooled effects with intervals, turnout in points', () => {
    const pooled = (estimate: number, half: number) => ({ estimate, se: half / 1.96, ci95: [estimate - half, estimate + half] as [number, number], seeds: 5, between: 0, within: 0, tau2: 0 });
    const effect = (metric: 'likelihood' | 'turnout', kind: 'paired' | 'unpaired', estimate: number, half: number) => ({ stream: 'treatment_soc_message', metric, kind, perSeed: [], pooled: pooled(estimate, half) });
    const table = pooledEffectsTable({
      estimator: 'EST',
      runs: [],
      notInEveryRun: [],
      effects: [effect('likelihood', 'paired', 0.1, 0.01), effect('likelihood', 'unpaired', 0.1, 0.05), effect('turnout', 'paired', 0.02, 0.005), effect('turnout', 'unpaired', 0.021, 0.02)],
    });
    expect(table.split('\n').slice(0, 3)).toEqual([
      '| condition | likelihood: paired | likelihood: unpaired | turnout (pts): paired | turnout (pts): unpaired | seeds |',
      '| --- | --- | --- | --- | --- | --- |',
      '| treatment_soc_message | +0.100 [0.090, 0.110] | +0.100 [0.050, 0.150] | +2.00 [1.50, 2.50] | +2.10 [0.10, 4.10] | 5 |',
    ]);
    expect(table).toMatch(/Pooled over seeds: EST\.\n$/);
  });
});
