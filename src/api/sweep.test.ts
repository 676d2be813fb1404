import { describe, expect, it } from 'vitest';
import { parseExperiment } from '../domain/config.js';
import { takeoverTimes } from '../queue/queue.js';
import { parseSeeds, sweepConfigs } from './sweep.js';

describe('sweep settings', () => {
  it('reads seeds as ranges and lists', () => {
    expect(parseSeeds('1-3')).toEqual([1, 2, 3]);
    expect(parseSeeds('5,1-2,2')).toEqual([5, 1, 2]);
    expect(() => parseSeeds('3-1')).toThrow(/empty range/);
    expect(() => parseSeeds('a')).toThrow(/--seeds: "a" is not a list of seeds/);
  });

  it('refuses a sweep no heap holds before listing a seed (1-1000000000 used to fill it)', () => {
    const limits = { heapBytes: 4 * 2 ** 30, machineBytes: 24 * 2 ** 30 };
    const started = Date.now();
    expect(() => parseSeeds('1-1000000000', limits)).toThrow(/^--seeds 1-1000000000: 1,000,000,000 runs would need about [\d,]+ GB of memory \(their configs, about 20 KB a run\), more than this machine has/);
    expect(Date.now() - started).toBeLessThan(1000);
    // 100,000 runs x 20 KB = 1.9 GB: within the heap, and listed without a quadratic dedupe.
    expect(parseSeeds('1-100000', limits)).toHaveLength(100_000);
    expect(() => sweepConfigs(parseExperiment({}), { seeds: '1-100000', grid: ['feed.length=3,4,5'] }, limits)).toThrow(/^--seeds 1-100000 with --grid: 300,000 runs would need about 5\.6 GB/);
  });

  it('makes one config per seed x grid value, with --set applied to all', () => {
    const base = parseExperiment({}, 'test');
    const configs = sweepConfigs(base, { seeds: '1-3', grid: ['messages.likely_voter_threshold=3,4'], set: ['feed.length=6'] });
    expect(configs.map((c) => [c.seed, c.config.seed, c.config.messages.likely_voter_threshold, c.config.feed.length])).toEqual([
      [1, 1, 3, 6],
      [2, 2, 3, 6],
      [3, 3, 3, 6],
      [1, 1, 4, 6],
      [2, 2, 4, 6],
      [3, 3, 4, 6],
    ]);
    expect(configs[0].setting).toBe('messages.likely_voter_threshold=3');
    // Everything else is the base config.
    expect({ ...configs[4].config, seed: base.seed, messages: base.messages, feed: base.feed }).toEqual(base);
  });

  it('refuses a key that is not a setting, and a value the config does not accept', () => {
    const base = parseExperiment({}, 'test');
    expect(() => sweepConfigs(base, { seeds: '1', grid: ['messages.nope=3'] })).toThrow(/--grid: "messages.nope" is not a setting/);
    expect(() => sweepConfigs(base, { seeds: '1', set: ['feed.length'] })).toThrow(/--set: "feed.length" is not key=value/);
    expect(() => sweepConfigs(base, { seeds: '1', grid: ['messages.likely_voter_threshold=9'] })).toThrow(/likely_voter_threshold/);
  });
});

describe('takeover timings', () => {
  it('a dead worker\'s job is back in the queue and polled within T: expiry + maintenance + retry delay (<= 4 s) + polling', () => {
    for (const t of [20, 60, 300]) {
      const x = takeoverTimes(t);
      expect(x.expireSeconds + x.maintenanceSeconds + 4 + x.pollMs / 1000, `T=${t}`).toBeLessThanOrEqual(t);
      // A live worker's slice ends well before its job expires.
      expect(x.sliceMs / 1000).toBeLessThan(x.expireSeconds / 2);
    }
    expect(takeoverTimes(60)).toEqual({ expireSeconds: 36, maintenanceSeconds: 9, sliceMs: 15_000, pollMs: 2000 });
  });
});
