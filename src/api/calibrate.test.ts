import { describe, expect, it } from 'vitest';
import { defaultSimulationSeeds } from './calibrate.js';

describe('defaultSimulationSeeds', () => {
  it('fits three target seeds on six simulated seeds, 1001-1006', () => {
    expect(defaultSimulationSeeds(3)).toEqual([1001, 1002, 1003, 1004, 1005, 1006]);
  });

  it('takes two simulated seeds per target seed beyond three', () => {
    expect(defaultSimulationSeeds(5)).toEqual([1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009, 1010]);
  });

  it('never fits fewer than six, and never the seeds of result_data (1-5)', () => {
    for (const n of [0, 1, 2]) {
      const seeds = defaultSimulationSeeds(n);
      expect(seeds).toHaveLength(6);
      expect(seeds.some((s) => s >= 1 && s <= 5)).toBe(false);
    }
  });
});
