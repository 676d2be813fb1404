import { describe, expect, it } from 'vitest';
import type { ConditionFigures, Report } from './build.js';
import { resultsSummaryTable } from './summary.js';

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
