import { poolSeeds, type PooledEstimate } from './stats.js';

/** What pooling reads of one run's report (a Report of ./build.ts has these fields). */
export interface SeedReport {
  run: number;
  seed: number;
  fingerprint: string;
  users: number;
  effects: ReadonlyArray<{ stream: string; likelihood: { estimate: number; se: number } | null; turnout: { estimate: number; se: number } | null; paired: { likelihood: { estimate: number; se: number } | null; turnout: { estimate: number; se: number } | null } }>;
}

const POOLING_ESTIMATOR =
  'equal-weight mean of the per-seed estimates; variance (tau² + w) / k with w the mean within-seed variance (se²) and tau² = max(0, s² - w) the between-seed variance by the method of moments (s² the variance of the k estimates); 95% normal interval';

export interface PooledEffect {
  stream: string;
  metric: 'likelihood' | 'turnout';
  kind: 'paired' | 'unpaired';
  perSeed: Array<{ run: number; seed: number; estimate: number; se: number }>;
  pooled: PooledEstimate | null;
}

export interface PooledFigures {
  estimator: string;
  runs: Array<{ run: number; seed: number; fingerprint: string; users: number }>;
  effects: PooledEffect[];
  /** Streams some runs lack: left out of the pooled effects. */
  notInEveryRun: string[];
}

/**
 * Pools the effects of runs of one config under different simulation seeds (independent
 * replications: each seed samples its own users, network and random numbers). A stream is pooled
 * over the runs that have it; streams missing from some runs are named.
 */
export function poolReports(reports: readonly SeedReport[]): PooledFigures {
  const streams: string[] = [];
  for (const r of reports) for (const e of r.effects) if (!streams.includes(e.stream)) streams.push(e.stream);
  const effects: PooledEffect[] = [];
  for (const stream of streams) {
    for (const metric of ['likelihood', 'turnout'] as const) {
      for (const kind of ['paired', 'unpaired'] as const) {
        const perSeed = reports.flatMap((r) => {
          const e = r.effects.find((x) => x.stream === stream);
          const value = e ? (kind === 'paired' ? e.paired[metric] : e[metric]) : null;
          return value ? [{ run: r.run, seed: r.seed, estimate: value.estimate, se: value.se }] : [];
        });
        effects.push({ stream, metric, kind, perSeed, pooled: poolSeeds(perSeed) });
      }
    }
  }
  return {
    estimator: POOLING_ESTIMATOR,
    runs: reports.map((r) => ({ run: r.run, seed: r.seed, fingerprint: r.fingerprint, users: r.users })),
    effects,
    notInEveryRun: streams.filter((s) => reports.some((r) => !r.effects.some((e) => e.stream === s))),
  };
}
