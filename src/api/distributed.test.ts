import { describe, expect, it } from 'vitest';
import { roundsPerSecond } from './distributed.js';

describe('sim status: rounds/s of a running job', () => {
  it('counts the rounds completed since the job started over the seconds since (database clock)', () => {
    // From round -12 to round -4: 8 rounds in 20 s.
    expect(roundsPerSecond(-12, -4, '2026-11-29T10:00:00.000Z', '2026-11-29T10:00:20.000Z')).toBeCloseTo(0.4, 12);
    // A job that started before any round (its stream's first round is -15, so from -16): 3 rounds in 1.5 s.
    expect(roundsPerSecond(-16, -13, '2026-11-29T10:00:00.000Z', '2026-11-29T10:00:01.500Z')).toBeCloseTo(2, 12);
    // No round yet: 0, not a negative rate.
    expect(roundsPerSecond(5, 5, '2026-11-29T10:00:00.000Z', '2026-11-29T10:00:30.000Z')).toBe(0);
    // Under a second (or a clock behind the start): no rate yet.
    expect(roundsPerSecond(0, 1, '2026-11-29T10:00:00.000Z', '2026-11-29T10:00:00.500Z')).toBeNull();
    expect(roundsPerSecond(0, 1, '2026-11-29T10:00:05.000Z', '2026-11-29T10:00:00.000Z')).toBeNull();
  });
});
