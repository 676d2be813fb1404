import { describe, expect, it } from 'vitest';
import type { Report } from './build.js';
import { reportTitle, runList, sgn } from './html.js';

describe('report.html wording', () => {
  it('never writes -0.000: a value that rounds to zero is 0.000, unsigned', () => {
    expect(sgn(-0.0004, 3)).toBe('0.000');
    expect(sgn(0.0004, 3)).toBe('0.000');
    expect(sgn(-0, 3)).toBe('0.000');
    expect(sgn(-0.0006, 3)).toBe('-0.001');
    expect(sgn(0.1024, 3)).toBe('+0.102');
  });

  it('titles a pooled report by the runs and seeds it pools, a sweep report by its sweep and setting', () => {
    const one = { run: 1, seed: 1, pooled: null } as unknown as Report;
    expect(reportTitle(one)).toBe('Run 1');
    const pooled = { ...one, pooled: { runs: [1, 2, 3, 4, 5].map((run) => ({ run, seed: run + 10 })) } } as unknown as Report;
    expect(reportTitle(pooled)).toBe('Runs 1-5 pooled (seeds 11-15)');
    expect(reportTitle(pooled, { name: 'thresholds', setting: 'messages.likely_voter_threshold=4' })).toBe('Sweep thresholds, messages.likely_voter_threshold=4: runs 1-5 pooled (seeds 11-15)');
    expect(reportTitle(pooled, { name: 'seeds', setting: '' })).toBe('Sweep seeds, base: runs 1-5 pooled (seeds 11-15)');
    expect(runList([7, 3])).toBe('3, 7');
    expect(runList([2, 3])).toBe('2, 3');
    expect(runList([4, 2, 3])).toBe('2-4');
  });
});
