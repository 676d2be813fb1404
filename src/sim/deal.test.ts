import { describe, expect, it } from 'vitest';
import { conditionCost, dealByCost, makespan } from './deal.js';

describe('dealByCost (longest processing time first)', () => {
  it('five equal conditions on two threads: 3 + 2, the earlier conditions on the first thread', () => {
    // Order of dealing 0,1,2,3,4 (ties by index); loads 0/0 -> t0 gets 0, t1 gets 1, t0 gets 2, t1 gets 3, t0 gets 4.
    expect(dealByCost([10, 10, 10, 10, 10], 2)).toEqual([[0, 2, 4], [1, 3]]);
  });

  it('a resumed run: the half-done condition no longer counts as a whole one', () => {
    // costs 10,10,10,10,5: sorted 0,1,2,3 (10 each), then 4 (5).
    // t0: 0 (10), t1: 1 (10), t0: 2 (20), t1: 3 (20), then 4 goes to t0 (tie -> lower thread): 25 / 20.
    // Round-robin would give the same here; with the cheap one first it would not:
    expect(dealByCost([10, 10, 10, 10, 5], 2)).toEqual([[0, 2, 4], [1, 3]]);
    // costs 5,10,10,10,10: round-robin deals [0,2,4] = 25 and [1,3] = 20; LPT deals 1,2,3,4 then 0:
    // t0: 1, t1: 2, t0: 3 (20), t1: 4 (20), t0: 0 (25). Same makespan; a sharper case below.
    expect(dealByCost([5, 10, 10, 10, 10], 2)).toEqual([[0, 1, 3], [2, 4]]);
  });

  it('beats round-robin when costs differ', () => {
    // Round-robin on 2 threads: [0,2] = 9 + 8 = 17 and [1,3] = 1 + 1 = 2: makespan 17.
    // LPT: 0 (9) -> t0, 2 (8) -> t1, 1 (1) -> t1 (9), 3 (1) -> t0 (tie 9/9 after? t0 = 9, t1 = 9 -> t0): 10 / 9.
    const costs = [9, 1, 8, 1];
    const shares = dealByCost(costs, 2);
    expect(shares).toEqual([[0, 3], [1, 2]]);
    expect(makespan(costs, shares)).toBe(10);
    expect(makespan(costs, [[0, 2], [1, 3]])).toBe(17);
  });

  it('three threads for five equal conditions: 2 + 2 + 1', () => {
    expect(dealByCost([1, 1, 1, 1, 1], 3)).toEqual([[0, 3], [1, 4], [2]]);
  });

  it('more threads than conditions: one condition each, no empty share', () => {
    expect(dealByCost([3, 2], 4)).toEqual([[0], [1]]);
    expect(dealByCost([], 2)).toEqual([]);
  });

  it('one thread runs everything in order', () => {
    expect(dealByCost([1, 5, 2], 1)).toEqual([[0, 1, 2]]);
  });

  it('rejects a thread count that is not a positive integer', () => {
    expect(() => dealByCost([1], 0)).toThrow(/positive integer/);
  });
});

describe('conditionCost', () => {
  it('counts the rounds left at the average activity, plus the election day when still to come', () => {
    // 30 rounds of 60 active agents + an election of 282 agents.
    expect(conditionCost({ roundsLeft: 30, activePerRound: 60, electionLeft: true, agents: 282 })).toBe(30 * 60 + 282);
    // 10 rounds left.
    expect(conditionCost({ roundsLeft: 10, activePerRound: 60, electionLeft: true, agents: 282 })).toBe(882);
    // Only the election left.
    expect(conditionCost({ roundsLeft: 0, activePerRound: 60, electionLeft: true, agents: 282 })).toBe(282);
    expect(conditionCost({ roundsLeft: 0, activePerRound: 60, electionLeft: false, agents: 282 })).toBe(0);
  });
});
