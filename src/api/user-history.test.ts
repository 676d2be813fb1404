import { describe, expect, it } from 'vitest';
import { validIds } from './user-history.js';

describe('a user id the run does not hold', () => {
  it('is answered with the ids it does hold: the count, the first five and the last, ascending', () => {
    expect(validIds([40, 3, 17, 8, 99, 21, 5])).toBe(': its 7 users have ids 3, 5, 8, 17, 21, ..., 99 (`sim export csv` lists them in personas.csv)');
    expect(validIds([2, 1])).toBe(': its 2 users have ids 1, 2 (`sim export csv` lists them in personas.csv)');
    expect(validIds([])).toBe(' (it holds no users yet)');
  });
});
