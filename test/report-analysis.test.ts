import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSim } from './helpers.js';

/**
 * The analysis on a 1,000-user offline run (and a second seed of it): the relations that must hold
 * whatever the offline model's numbers are, and pooling checked by hand against the per-seed reports.
 */
const scratch = mkdtempSync(join(tmpdir(), 'sim-analysis-'));
const out = join(scratch, 'out');
const CONDITIONS = 'control,treatment_soc_message,experiment_soc_message';
const Z = 1.959963984540054;
const json = (dir: string) => JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));

beforeAll(() => {
  for (const seed of ['1', '2']) {
    const run = runSim(['run', '--provider', 'offline', '--n-users', '1000', '--seed', seed, '--conditions', CONDITIONS, '--out', out], { timeoutMs: 300_000 });
    expect(run.status, run.stderr).toBe(0);
  }
  for (const [args, to] of [[['1'], 'r1'], [['2'], 'r2'], [['1', '2'], 'pooled']] as const) {
    const r = runSim(['report', ...args, '--out', out, '--to', join(scratch, to)]);
    expect(r.status, r.stderr).toBe(0);
  }
}, 600_000);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('paired effects on 1,000 users', () => {
  it('gives the social message effect a narrower interval paired than unpaired', () => {
    for (const metric of ['likelihood', 'turnout']) {
      const e = json(join(scratch, 'r1')).effects.find((x: { stream: string }) => x.stream === 'treatment_soc_message');
      const paired = e.paired[metric].ci95[1] - e.paired[metric].ci95[0];
      const unpaired = e[metric].ci95[1] - e[metric].ci95[0];
      expect(paired, metric).toBeLessThan(unpaired);
      // the same users: paired and unpaired means differ only by users missing from one arm
      if (metric === 'turnout') expect(Math.abs(e.paired.turnout.estimate - e.turnout.estimate)).toBeLessThan(1e-12);
    }
  });

  it('gives zero-width intervals to spillover rows and dose groups whose per-user differences are all zero', () => {
    const r = json(join(scratch, 'r1'));
    const rows = r.mixed.flatMap((m: { spillover: unknown[] }) => m.spillover).filter((s: { pairedVsControl: unknown }) => s.pairedVsControl);
    expect(rows.length).toBeGreaterThan(0);
    for (const s of rows) expect(s.pairedVsControl.ci95[1] - s.pairedVsControl.ci95[0] === 0).toBe(s.pairedVsControl.sd === 0);
    for (const x of r.exposure) {
      expect(x.measures.map((m: { measure: string }) => m.measure)).toEqual(['treated followees', "treated users' posts served", 'named in social messages']);
      for (const m of x.measures) for (const b of m.bins) if (b.paired) expect(b.paired.ci95[1] - b.paired.ci95[0] === 0).toBe(b.paired.sd === 0);
    }
    // heterogeneity covers the six attributes, each group at most the users of the run
    const attributes = new Set(r.heterogeneity.map((h: { attribute: string }) => h.attribute));
    expect([...attributes].sort()).toEqual(['age band', 'education', 'follower-count quintile', 'model tier', 'partisanship', 'stance strength']);
  });
});

describe('sim report RUN RUN (pooled seeds)', () => {
  it('pools each effect over the two seeds by the stated estimator, from the per-seed reports', () => {
    const pooled = json(join(scratch, 'pooled')).pooled;
    expect(pooled.runs.map((r: { run: number; seed: number }) => [r.run, r.seed])).toEqual([[1, 1], [2, 2]]);
    const seeds = [json(join(scratch, 'r1')), json(join(scratch, 'r2'))];
    const e = pooled.effects.find((x: { stream: string; metric: string; kind: string }) => x.stream === 'treatment_soc_message' && x.metric === 'likelihood' && x.kind === 'paired');
    const per = seeds.map((r) => r.effects.find((x: { stream: string }) => x.stream === 'treatment_soc_message').paired.likelihood);
    expect(e.perSeed.map((s: { estimate: number }) => s.estimate)).toEqual(per.map((p) => p.estimate));
    // by hand: mean of two; variance max(s², mean se²) / 2 with s² = (a - b)² / 2
    const mean = (per[0].estimate + per[1].estimate) / 2;
    const between = (per[0].estimate - per[1].estimate) ** 2 / 2;
    const within = (per[0].se ** 2 + per[1].se ** 2) / 2;
    const se = Math.sqrt(Math.max(between, within) / 2);
    expect(Math.abs(e.pooled.estimate - mean)).toBeLessThan(1e-12);
    expect(Math.abs(e.pooled.se - se)).toBeLessThan(1e-12);
    expect(Math.abs(e.pooled.ci95[1] - (mean + Z * se))).toBeLessThan(1e-12);
    expect(existsSync(join(scratch, 'pooled', 'report.html'))).toBe(true);
    expect(readFileSync(join(scratch, 'pooled', 'report.html'), 'utf8')).toContain('Pooled over 2 seeds');
  });

  it('refuses to pool a run with itself or runs of different configs, in one line, writing nothing', () => {
    const same = runSim(['report', '1', '1', '--out', out, '--to', join(scratch, 'nope')]);
    expect(same.status).toBe(2);
    expect(same.stderr.trim()).toBe('sim: RUN 1: same seed (1) as run 1; pooling needs runs of different seeds');
    const other = runSim(['run', '--provider', 'offline', '--n-users', '30', '--seed', '3', '--conditions', 'control', '--out', out]);
    expect(other.status, other.stderr).toBe(0);
    const mixed = runSim(['report', '1', '3', '--out', out, '--to', join(scratch, 'nope')]);
    expect(mixed.status).toBe(2);
    expect(mixed.stderr.trim()).toBe("sim: RUN 3: its config differs from run 1's in more than the seed; only runs of one config can be pooled");
    expect(existsSync(join(scratch, 'nope'))).toBe(false);
  }, 300_000);
});
