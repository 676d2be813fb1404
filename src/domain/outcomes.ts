/**
 * The figures of one condition that `sim run` prints and the report publishes: turnout overall and
 * by treatment group, and the mean final likelihood (docs/protocol.md). One implementation, fed by
 * the projections (src/projections/queries.ts) and by the report's run data (src/report/build.ts),
 * so the two cannot drift.
 */

/** One user's outcome in a condition. */
export interface UserOutcome {
  /** Of voting age: only eligible users are treated, asked, and counted in turnout. */
  eligible: boolean;
  treated: boolean;
  voted: boolean;
  /** The last likelihood the user stated (warmup included), or null if never asked. */
  finalLikelihood: number | null;
}

export interface ConditionTotals {
  users: number;
  eligible: number;
  voters: number;
  turnout: number | null;
  treated: number;
  turnoutTreated: number | null;
  turnoutUntreated: number | null;
  /** Users who stated at least one likelihood. */
  stated: number;
  /** Mean over users who stated a likelihood of the last one they stated (the reference's definition). */
  meanFinalLikelihood: number | null;
  meanFinalLikelihoodTreated: number | null;
  meanFinalLikelihoodUntreated: number | null;
}

/** Totals of a condition's users, in one pass (users may be streamed from a database). */
export function conditionTotals(users: Iterable<UserOutcome>): ConditionTotals {
  let n = 0;
  let eligible = 0;
  let voters = 0;
  let treated = 0;
  let treatedVoters = 0;
  const all = new Mean();
  const ofTreated = new Mean();
  const ofUntreated = new Mean();
  for (const u of users) {
    n += 1;
    if (u.finalLikelihood !== null) all.add(u.finalLikelihood);
    if (!u.eligible) continue;
    eligible += 1;
    if (u.voted) voters += 1;
    if (u.treated) {
      treated += 1;
      if (u.voted) treatedVoters += 1;
      if (u.finalLikelihood !== null) ofTreated.add(u.finalLikelihood);
    } else if (u.finalLikelihood !== null) ofUntreated.add(u.finalLikelihood);
  }
  return {
    users: n,
    eligible,
    voters,
    turnout: ratio(voters, eligible),
    treated,
    turnoutTreated: ratio(treatedVoters, treated),
    turnoutUntreated: ratio(voters - treatedVoters, eligible - treated),
    stated: all.n,
    meanFinalLikelihood: all.value(),
    meanFinalLikelihoodTreated: ofTreated.value(),
    meanFinalLikelihoodUntreated: ofUntreated.value(),
  };
}

class Mean {
  n = 0;
  private sum = 0;
  add(x: number): void {
    this.n += 1;
    this.sum += x;
  }
  value(): number | null {
    return this.n > 0 ? this.sum / this.n : null;
  }
}

function ratio(a: number, b: number): number | null {
  return b > 0 ? a / b : null;
}
