import { describe, expect, it } from 'vitest';
import { UsageError } from '../errors.js';
import { integerFlag, parseDuration, parseRate } from './options.js';

describe('shared flags', () => {
  it('reads durations and rates as a user writes them', () => {
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('10m')).toBe(600_000);
    expect(parseDuration('1.5h')).toBe(5_400_000);
    expect(() => parseDuration('10')).toThrow(/--max-outage: "10" is not a duration/);
    expect(() => parseDuration('500ms')).toThrow(UsageError);
    expect(parseRate('2%')).toBe(0.02);
    expect(parseRate('0.05')).toBe(0.05);
    expect(() => parseRate('150%')).toThrow(/--max-fallback-rate/);
  });


  it('reads integers and names the flag of a bad one', () => {
    expect(integerFlag('--seed')('42')).toBe(42);
    expect(integerFlag('--seed')(' -3 ')).toBe(-3);
    expect(() => integerFlag('--seed')('4.2')).toThrow('--seed: "4.2" is not an integer');
    expect(() => integerFlag('--workers', 1)('0')).toThrow('--workers: must be at least 1 (got 0)');
    // Past 2^53 a number no longer holds the integer typed: named, not zod's "Too big: expected int".
    expect(() => integerFlag('--seed')('99999999999999999999')).toThrow('--seed: 99999999999999999999 is too large (at most 9007199254740991)');
    expect(integerFlag('--seed')('9007199254740991')).toBe(Number.MAX_SAFE_INTEGER);
  });
});
