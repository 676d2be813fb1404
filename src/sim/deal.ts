/**
 * Dealing a run's conditions to threads by their expected cost (issue 19): longest processing time
 * first. Jobs are taken from the most to the least expensive (ties: the earlier job first) and each
 * goes to the thread with the least cost dealt so far (ties: the lower thread). Pure and
 * deterministic; which thread runs a condition never changes its events, only the wall time.
 */
export function dealByCost(costs: readonly number[], threads: number): number[][] {
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`threads must be a positive integer, got ${threads}`);
  const order = costs.map((_, i) => i).sort((a, b) => costs[b] - costs[a] || a - b);
  const shares: number[][] = Array.from({ length: Math.min(threads, Math.max(costs.length, 1)) }, () => []);
  const load = shares.map(() => 0);
  for (const job of order) {
    let best = 0;
    for (let t = 1; t < shares.length; t++) if (load[t] < load[best]) best = t;
    shares[best].push(job);
    load[best] += costs[job];
  }
  // Each thread runs its share in the conditions' own order (the order a one-thread run uses).
  for (const share of shares) share.sort((a, b) => a - b);
  return shares.filter((s) => s.length > 0);
}

/** The largest total cost dealt to one thread: what the dealing's wall time is proportional to. */
export function makespan(costs: readonly number[], shares: readonly number[][]): number {
  return Math.max(0, ...shares.map((s) => s.reduce((sum, j) => sum + costs[j], 0)));
}

/**
 * The expected cost of a condition still to run, in agent-turns: its main rounds not yet recorded
 * times the agents active in an average round, plus the election day (every eligible agent votes)
 * when it is still to come.
 */
export function conditionCost(o: { roundsLeft: number; activePerRound: number; electionLeft: boolean; agents: number }): number {
  return Math.max(0, o.roundsLeft) * o.activePerRound + (o.electionLeft ? o.agents : 0);
}
