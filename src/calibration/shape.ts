/**
 * The shape of a condition's stated voting likelihoods, as the calibration compares it: the
 * distributions of each user's first and final answers, how often an answer differs from the same
 * user's previous one, and the mean of each user's latest answer round by round. Pure: it reads a
 * matrix (one row per user, one cell per round, null where the user stated nothing).
 */
export interface ConditionShape {
  /** Users with at least one answer. */
  users: number;
  /** Shares of first answers 0..4. */
  first: number[];
  /** Shares of final answers 0..4. */
  final: number[];
  /** Changed answers / pairs of consecutive answers of the same user. */
  changeRate: number;
  /** The same, for pairs whose later answer falls in the warmup (rounds up to 0). */
  warmupChangeRate: number;
  /** Share of changed answers that went up. */
  upShare: number;
  /** Share of changed answers that went between 1 and 2 (either way). */
  oneTwoShare: number;
  /** Mean of the users' final answers. */
  meanFinal: number;
  /** Mean of each user's latest answer so far, per round (null before anyone answered). */
  byRound: Array<number | null>;
}

export interface VotingMatrix {
  rounds: number[];
  /** rows[user][roundIndex]: the answer stated that round, or null. */
  rows: Array<Array<number | null>>;
}

/** The last warmup round in the reference's layout (the main stage starts at round 1). */
export const WARMUP_END = 0;

export function conditionShape(m: VotingMatrix): ConditionShape {
  const first = [0, 0, 0, 0, 0];
  const final = [0, 0, 0, 0, 0];
  let users = 0;
  let pairs = 0;
  let changes = 0;
  let warmupPairs = 0;
  let warmupChanges = 0;
  let ups = 0;
  let oneTwo = 0;
  let sumFinal = 0;
  const latest: Array<number | null> = m.rows.map(() => null);
  const byRoundSum = new Array<number>(m.rounds.length).fill(0);
  const byRoundCount = new Array<number>(m.rounds.length).fill(0);
  m.rows.forEach((row, u) => {
    let previous: number | null = null;
    row.forEach((v, j) => {
      if (v !== null) {
        if (previous === null) first[v] += 1;
        else {
          pairs += 1;
          if (v !== previous) changes += 1;
          if (v > previous) ups += 1;
          if (v + previous === 3 && v * previous === 2) oneTwo += 1;
          if (m.rounds[j] <= WARMUP_END) {
            warmupPairs += 1;
            if (v !== previous) warmupChanges += 1;
          }
        }
        previous = v;
        latest[u] = v;
      }
      if (latest[u] !== null) {
        byRoundSum[j] += latest[u]!;
        byRoundCount[j] += 1;
      }
    });
    if (previous !== null) {
      users += 1;
      final[previous] += 1;
      sumFinal += previous;
    }
  });
  const share = (xs: number[]) => xs.map((x) => (users > 0 ? x / users : 0));
  return {
    users,
    first: share(first),
    final: share(final),
    changeRate: pairs > 0 ? changes / pairs : 0,
    warmupChangeRate: warmupPairs > 0 ? warmupChanges / warmupPairs : 0,
    upShare: changes > 0 ? ups / changes : 0,
    oneTwoShare: changes > 0 ? oneTwo / changes : 0,
    meanFinal: users > 0 ? sumFinal / users : 0,
    byRound: byRoundSum.map((s, j) => (byRoundCount[j] > 0 ? s / byRoundCount[j] : null)),
  };
}

/** Total variation distance between two distributions over the same categories. */
export function totalVariation(a: readonly number[], b: readonly number[]): number {
  let d = 0;
  for (let i = 0; i < Math.max(a.length, b.length); i++) d += Math.abs((a[i] ?? 0) - (b[i] ?? 0));
  return d / 2;
}

/** Shapes averaged over seeds (each seed's shape weighs the same, as the reference's figures do). */
export function averageShapes(shapes: readonly ConditionShape[]): ConditionShape {
  const n = shapes.length;
  const avg = (f: (s: ConditionShape) => number) => shapes.reduce((t, s) => t + f(s), 0) / n;
  const rounds = shapes[0].byRound.length;
  return {
    users: avg((s) => s.users),
    first: [0, 1, 2, 3, 4].map((k) => avg((s) => s.first[k])),
    final: [0, 1, 2, 3, 4].map((k) => avg((s) => s.final[k])),
    changeRate: avg((s) => s.changeRate),
    warmupChangeRate: avg((s) => s.warmupChangeRate),
    upShare: avg((s) => s.upShare),
    oneTwoShare: avg((s) => s.oneTwoShare),
    meanFinal: avg((s) => s.meanFinal),
    byRound: Array.from({ length: rounds }, (_, j) => {
      const values = shapes.map((s) => s.byRound[j]).filter((v): v is number => v !== null);
      return values.length > 0 ? values.reduce((a, b) => a + b, 0) / values.length : null;
    }),
  };
}
