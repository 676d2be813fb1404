import { describe, expect, it } from 'vitest';
import { parseExperiment } from './config.js';
import { estimatePopulationMemory, estimateRunMemory, meanTurnGap, MEMORY_COSTS, streamCount } from './memory.js';

describe('the memory a run needs', () => {
  it('adds agents, initial posts, agent-turns and streams to the base, largest part first', () => {
    const c = parseExperiment({});
    // Default: 1,000 agents; warmup -15..0 (16 rounds) + rounds 1..30; a turn every 1.5 x 3 + 0.5 = 5 rounds.
    expect(meanTurnGap(c)).toBe(5);
    const turns = (1000 * (16 + 30)) / 5;
    const e = estimateRunMemory(c);
    expect(e.bytes).toBe(100 * 2 ** 20 + 1000 * 2_500 + 20 * 2_900 + turns * 200 + 5 * 1_000);
    expect(e.parts.map((p) => p.key)).toEqual(['n_users', 'rounds', 'content.initial_posts', 'n_runs']);
  });

  it('counts the streams without listing them: mixed conditions once per treatment seed', () => {
    // The default five: three all-or-none, two mixed (experiment_*), so 3 + 2 x 4.
    expect(streamCount(parseExperiment({ n_runs: 4 }))).toBe(11);
    expect(streamCount(parseExperiment({ warmup_only: true }))).toBe(0);
    // A billion repeats is a number, not a list of a billion objects.
    expect(streamCount(parseExperiment({ n_runs: 1e9 }))).toBe(3 + 2e9);
  });

  it('makes the huge value of the issue the largest part, by far', () => {
    const e = estimateRunMemory(parseExperiment({ n_users: 100, content: { initial_posts: 100_000_000 } }));
    expect(e.parts[0]).toMatchObject({ key: 'content.initial_posts', bytes: 100_000_000 * MEMORY_COSTS.initialPostBytes });
    expect(e.parts[0].detail).toBe('100,000,000 initial posts x 2.9 KB');
    expect(e.bytes).toBeGreaterThan(200 * 2 ** 30);
    // A run from a recorded warmup writes no initial posts and no warmup turns.
    const forked = estimateRunMemory(parseExperiment({ n_users: 100, content: { initial_posts: 100_000_000 }, from_warmup: 'run/1/warmup' }));
    expect(forked.parts.find((p) => p.key === 'content.initial_posts')!.bytes).toBe(0);
    expect(forked.parts.find((p) => p.key === 'rounds')!.bytes).toBe(((100 * 30) / 5) * 200);
  });

  it('estimates a generated population by its users and follows', () => {
    expect(estimatePopulationMemory(1000, 20).bytes).toBe(100 * 2 ** 20 + 1000 * (4_000 + 20 * 220));
  });
});
