import { describe, expect, it } from 'vitest';
import { FallbackBudgetError } from '../errors.js';
import { makeEvent, type SimEvent } from '../domain/events.js';
import { FallbackBudget, MIN_DECISIONS } from './fallback-budget.js';

const fellBack = (agentId: number, reason: string, raw: string | null = null): SimEvent => makeEvent('DecisionFellBack', { purpose: 'turn', field: 'answer', reason, raw }, 1, agentId);

describe('FallbackBudget', () => {
  it('counts a decision once however many of its fields fell back, and judges only from MIN_DECISIONS on', () => {
    const budget = new FallbackBudget('control', 0.02);
    // 50 decisions, 3 fell back (6%), one of them on two fields: too few decisions to judge yet.
    budget.add(50, [fellBack(1, 'x'), fellBack(1, 'y'), fellBack(2, 'x'), fellBack(3, 'x')], false);
    expect([budget.decisions, budget.fellBack]).toEqual([50, 3]);
    // 150 decisions with 3 fallbacks: 2.0%, not over 2%.
    budget.add(100, [], false);
    expect(budget.fellBack / budget.decisions).toBe(0.02);
    expect(MIN_DECISIONS).toBeLessThanOrEqual(150);
    // One more: 4 of 160 = 2.5%, over.
    expect(() => budget.add(10, [fellBack(9, 'x')], false)).toThrow(FallbackBudgetError);
  });

  it('judges a short stream at its last batch, and names the most frequent reasons and raw answers', () => {
    const budget = new FallbackBudget('warmup', 0.1);
    budget.add(10, [fellBack(1, 'post_number 7 is not in the feed (1-4)', '{"a": 7}'), fellBack(2, 'post_number 9 is not in the feed (1-4)', '{"a": 9}')], false);
    let error: Error | null = null;
    try {
      budget.add(5, [fellBack(3, 'not JSON', 'oops')], true);
    } catch (e) {
      error = e as Error;
    }
    expect(error).toBeInstanceOf(FallbackBudgetError);
    expect(error!.message).toMatch(/^stream warmup: 3 of 15 decisions \(20%\) fell back, over the budget of 10%/);
    // The same figures as data, for a program.
    expect((error as FallbackBudgetError).budget).toEqual({ stream: 'warmup', decisions: 15, fellBack: 3, maxRate: 0.1 });
    expect((error as FallbackBudgetError).flag).toBe('--max-fallback-rate');
    expect(error!.message).toContain('most frequent reasons: post_number N is not in the feed (N-N) (2); not JSON (1)');
    expect(error!.message).toContain('raw answers: "{\\"a\\": 7}" | "{\\"a\\": 9}" | "oops"');
  });

  it('never stops at 100%', () => {
    const budget = new FallbackBudget('control', 1);
    expect(() => budget.add(200, Array.from({ length: 200 }, (_, i) => fellBack(i, 'x')), true)).not.toThrow();
  });
});
