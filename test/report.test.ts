import { parse } from 'csv-parse/sync';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventStore } from '../src/sim/store.js';
import { streamId } from '../src/events/stream-ids.js';
import { PROJECT_ROOT, runSim } from './helpers.js';
import { sqliteOf } from './helpers.js';
import { writeUsersDir } from './support/users-files.js';

/**
 * A run whose mixed condition repeats over two treatment seeds (3 and 4), exported and reported.
 * The report's numbers are recomputed here by hand from the exported CSVs only.
 */
const scratch = mkdtempSync(join(tmpdir(), 'sim-report-'));
const users = writeUsersDir(join(scratch, 'users'), 120);
const out = join(scratch, 'out');
const to = join(scratch, 'csv');
const reportDir = join(scratch, 'report');
const config = join(scratch, 'experiment.json');
const REFERENCE = join(PROJECT_ROOT, '..', 'shared', 'reference', 'llm-sociopol', 'seed_1');
const Z = 1.959963984540054;

beforeAll(() => {
  writeFileSync(config, JSON.stringify({ n_runs: 2 }));
  const run = runSim(['run', '--config', config, '--users-dir', users, '--n-users', '80', '--seed', '3', '--conditions', 'control,treatment_soc_message,experiment_soc_message', '--out', out]);
  expect(run.status, run.stderr).toBe(0);
  const exported = runSim(['export', 'csv', '--out', out, '--to', to]);
  expect(exported.status, exported.stderr).toBe(0);
  const report = runSim(['report', '--out', out, '--to', reportDir]);
  expect(report.status, report.stderr).toBe(0);
}, 120_000);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const read = (file: string) => parse(readFileSync(file)) as string[][];
const report = () => JSON.parse(readFileSync(join(reportDir, 'report.json'), 'utf8'));
/** Where each stream's files are: repeated conditions get one folder per treatment seed. */
const folders: Record<string, string> = {
  control: 'control',
  treatment_soc_message: 'treatment_soc_message',
  'experiment_soc_message/3': join('seed_3', 'experiment_soc_message'),
  'experiment_soc_message/4': join('seed_4', 'experiment_soc_message'),
};
const file = (stream: string, kind: string) => {
  const condition = stream.split('/')[0];
  return join(to, folders[stream], `${condition}_${kind}.csv`);
};

/** user id -> last stated likelihood, for users who stated one. */
function finals(stream: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const row of read(file(stream, 'voting_data')).slice(1)) {
    const cells = row.slice(1).filter((c) => c !== '');
    if (cells.length > 0) out.set(row[0], Number(cells[cells.length - 1]));
  }
  return out;
}
/** user id -> [age, treated, voted] from the personas file. */
function personas(stream: string): Map<string, { age: number; treated: boolean; voted: number }> {
  const rows = read(file(stream, 'personas'));
  const col = (name: string) => rows[0].indexOf(name);
  return new Map(rows.slice(1).map((r) => [r[0], { age: Number(r[col('age')]), treated: r[col('treatment_group')] === 'Yes', voted: Number(r[col('voted')]) }]));
}
const meanOf = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const varOf = (xs: number[]) => xs.reduce((a, x) => a + (x - meanOf(xs)) ** 2, 0) / (xs.length - 1);
const byHand = (a: number[], b: number[]) => {
  const estimate = meanOf(a) - meanOf(b);
  const se = Math.sqrt(varOf(a) / a.length + varOf(b) / b.length);
  return { estimate, se, ci95: [estimate - Z * se, estimate + Z * se] };
};
function close(actual: { estimate: number; se: number; ci95: number[] }, expected: ReturnType<typeof byHand>) {
  expect(Math.abs(actual.estimate - expected.estimate)).toBeLessThan(1e-9);
  expect(Math.abs(actual.se - expected.se)).toBeLessThan(1e-9);
  expect(Math.abs(actual.ci95[0] - expected.ci95[0])).toBeLessThan(1e-9);
  expect(Math.abs(actual.ci95[1] - expected.ci95[1])).toBeLessThan(1e-9);
}
const votesOfAdults = (stream: string) => [...personas(stream).values()].filter((p) => p.age >= 18).map((p) => p.voted);

describe('export of repeated conditions', () => {
  it('puts one folder per treatment seed, as the reference did', () => {
    expect(readdirSync(to).sort()).toEqual(['control', 'population_summary.txt', 'seed_3', 'seed_4', 'treatment_soc_message']);
    for (const stream of Object.keys(folders)) expect(existsSync(file(stream, 'voting_data')), stream).toBe(true);
    // different treatment seeds, different assignments
    expect(readFileSync(file('experiment_soc_message/3', 'treatment_data'), 'utf8')).not.toBe(readFileSync(file('experiment_soc_message/4', 'treatment_data'), 'utf8'));
  });
});

describe('sim report', () => {
  it('gives each condition the mean final likelihood and turnout the CSVs give', () => {
    const r = report();
    expect(r.conditions.map((c: { stream: string }) => c.stream)).toEqual(Object.keys(folders));
    for (const stream of Object.keys(folders)) {
      const figures = r.conditions.find((c: { stream: string }) => c.stream === stream);
      const f = [...finals(stream).values()];
      expect(figures.stated).toBe(f.length);
      expect(Math.abs(figures.meanFinalLikelihood - meanOf(f))).toBeLessThan(1e-9);
      const votes = votesOfAdults(stream);
      expect(figures.eligible).toBe(votes.length);
      expect(Math.abs(figures.turnout - meanOf(votes))).toBeLessThan(1e-9);
    }
  });

  it("agrees with the projection's last stated likelihood per user (proj_agents.last_likelihood)", async () => {
    const store = await EventStore.open(out);
    try {
      for (const figures of report().conditions) {
        const rows = await sqliteOf(store).db.selectFrom('proj_agents').select('last_likelihood').where('stream_id', '=', streamId(1, figures.stream)).where('last_likelihood', 'is not', null).execute();
        expect(rows.length, figures.stream).toBe(figures.stated);
        expect(Math.abs(meanOf(rows.map((r) => Number(r.last_likelihood))) - figures.meanFinalLikelihood)).toBeLessThan(1e-9);
      }
    } finally {
      await store.close();
    }
  });

  it('matches a by-hand computation of every effect versus control from the exported CSVs to 1e-9', () => {
    const r = report();
    const control = [...finals('control').values()];
    for (const stream of ['treatment_soc_message', 'experiment_soc_message/3', 'experiment_soc_message/4']) {
      const effect = r.effects.find((e: { stream: string }) => e.stream === stream);
      close(effect.likelihood, byHand([...finals(stream).values()], control));
      close(effect.turnout, byHand(votesOfAdults(stream), votesOfAdults('control')));
    }
  });

  it('gives the between-seed spread of the mixed condition effect', () => {
    const control = meanOf([...finals('control').values()]);
    const effects = ['experiment_soc_message/3', 'experiment_soc_message/4'].map((s) => meanOf([...finals(s).values()]) - control);
    const spread = report().acrossSeeds.find((s: { condition: string }) => s.condition === 'experiment_soc_message').likelihoodEffect;
    expect(spread.runs).toBe(2);
    expect(Math.abs(spread.mean - meanOf(effects))).toBeLessThan(1e-9);
    expect(Math.abs(spread.sd - Math.abs(effects[0] - effects[1]) / Math.SQRT2)).toBeLessThan(1e-9);
  });

  it('gives the direct effect (treated minus untreated) and spillover groups of each mixed stream', () => {
    const r = report();
    expect(r.mixed.map((m: { stream: string }) => m.stream)).toEqual(['experiment_soc_message/3', 'experiment_soc_message/4']);
    for (const m of r.mixed) {
      const f = finals(m.stream);
      const p = personas(m.stream);
      const stated = [...f.keys()].filter((id) => p.get(id)!.age >= 18);
      close(m.direct, byHand(stated.filter((id) => p.get(id)!.treated).map((id) => f.get(id)!), stated.filter((id) => !p.get(id)!.treated).map((id) => f.get(id)!)));
      expect(m.spillover.map((s: { treatedFollowees: string }) => s.treatedFollowees)).toEqual(['0', '1', '2', '3+']);
      // every untreated user who stated a likelihood is in exactly one group
      expect(m.spillover.reduce((a: number, s: { users: number }) => a + s.users, 0)).toBe(stated.filter((id) => !p.get(id)!.treated).length);
    }
  });

  it('pairs each user with themselves in control, by hand from the exported CSVs', () => {
    const r = report();
    const control = finals('control');
    const controlVotes = personas('control');
    for (const stream of ['treatment_soc_message', 'experiment_soc_message/3', 'experiment_soc_message/4']) {
      const f = finals(stream);
      const d = [...f.keys()].filter((u) => control.has(u)).map((u) => f.get(u)! - control.get(u)!);
      const effect = r.effects.find((e: { stream: string }) => e.stream === stream).paired;
      expect(effect.likelihood.n).toBe(d.length);
      expect(Math.abs(effect.likelihood.estimate - meanOf(d))).toBeLessThan(1e-9);
      expect(Math.abs(effect.likelihood.se - Math.sqrt(varOf(d) / d.length))).toBeLessThan(1e-9);
      const p = personas(stream);
      const v = [...p.entries()].filter(([, x]) => x.age >= 18).map(([u, x]) => x.voted - controlVotes.get(u)!.voted);
      expect(Math.abs(effect.turnout.estimate - meanOf(v))).toBeLessThan(1e-9);
      expect(Math.abs(effect.turnout.se - Math.sqrt(varOf(v) / v.length))).toBeLessThan(1e-9);
    }
  });

  it('gives spillover rows a paired difference against the same users in control', () => {
    for (const m of report().mixed) {
      for (const row of m.spillover) {
        if (row.users < 2) continue;
        // the same users' per-user differences: zero width exactly when they are all equal
        const width = row.pairedVsControl.ci95[1] - row.pairedVsControl.ci95[0];
        expect(width === 0).toBe(row.pairedVsControl.sd === 0);
        expect(row.pairedVsControl.n).toBeLessThanOrEqual(row.users);
      }
    }
  });

  it('writes the same numbers into report.html', () => {
    const html = readFileSync(join(reportDir, 'report.html'), 'utf8');
    const r = report();
    const soc = r.effects.find((e: { stream: string }) => e.stream === 'treatment_soc_message').likelihood;
    // What rounds to zero is written 0.000, unsigned (never -0.000).
    const signed = (x: number) => (Number(x.toFixed(3)) === 0 ? '0.000' : `${x > 0 ? '+' : ''}${x.toFixed(3)}`);
    expect(html).toContain(`${signed(soc.estimate)} [${signed(soc.ci95[0])}, ${signed(soc.ci95[1])}]`);
    const paired = r.effects.find((e: { stream: string }) => e.stream === 'treatment_soc_message').paired.likelihood;
    expect(html).toContain(`${signed(paired.estimate)} [${signed(paired.ci95[0])}, ${signed(paired.ci95[1])}]`);
    expect(html).toContain('offline persona model');
    // self-contained: inline SVG (likelihood, turnout, effects, exposure, heterogeneity), no script, no external resource
    expect(html.match(/<svg/g)?.length).toBe(5);
    expect(html).not.toMatch(/<script|<link|src="http|href="http/);
    expect(readdirSync(reportDir).sort()).toEqual(['report.html', 'report.json']);
  });

  /**
   * A folder in the reference layout of our own making (4 users, a few statements each), so the
   * overlay is always tested; the reference's published seed 1 too when it sits beside the clone
   * (skipped, and reported as skipped, when it does not).
   */
  function ownReferenceFolder(): string {
    const dir = join(scratch, 'own-reference');
    const header = ['', ...Array.from({ length: 46 }, (_, i) => String(i - 15))].join(',');
    const row = (user: number, statements: Record<number, number>) =>
      [String(user), ...Array.from({ length: 46 }, (_, i) => (statements[i - 15] === undefined ? '' : String(statements[i - 15])))].join(',');
    const conditions: Record<string, string[]> = {
      control: [row(0, { [-14]: 2, 3: 3 }), row(1, { [-12]: 1 }), row(2, { [-10]: 3, 20: 4, 29: 3 }), row(3, {})],
      treatment_soc_message: [row(0, { [-14]: 2, 5: 4 }), row(1, { [-12]: 1, 30: 3 }), row(2, { [-10]: 3 }), row(3, { 2: 0 })],
    };
    for (const [name, rows] of Object.entries(conditions)) {
      mkdirSync(join(dir, name), { recursive: true });
      writeFileSync(join(dir, name, `${name}_voting_data.csv`), `${[header, ...rows].join('\n')}\n`);
    }
    return dir;
  }

  for (const source of [
    { name: 'a folder of our own making', dir: () => ownReferenceFolder(), skip: false, to: 'compare-own' },
    { name: "the reference's published seed 1", dir: () => REFERENCE, skip: !existsSync(REFERENCE), to: 'compare-reference' },
  ]) {
    it.skipIf(source.skip)(`overlays a folder in the reference layout with --compare: ${source.name}`, () => {
      const reference = source.dir();
      const dir = join(scratch, source.to);
      const result = runSim(['report', '--out', out, '--to', dir, '--compare', reference]);
      expect(result.status, result.stderr).toBe(0);
      const compare = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')).compare;
      // by hand from the reference file: the mean of each user's last stated value
      const rows = read(join(reference, 'control', 'control_voting_data.csv')).slice(1);
      const last = rows.flatMap((row) => {
        const cells = row.slice(1).filter((c) => c !== '');
        return cells.length > 0 ? [Number(cells[cells.length - 1])] : [];
      });
      expect(Math.abs(compare.conditions.find((c: { condition: string }) => c.condition === 'control').meanFinalLikelihood - meanOf(last))).toBeLessThan(1e-9);
      const html = readFileSync(join(dir, 'report.html'), 'utf8');
      expect(html).toContain('reference: treatment_soc_message');
      expect(html).toContain('reference effect on likelihood');
    });
  }

  it('refuses a --compare folder that does not exist, in one line', () => {
    const result = runSim(['report', '--out', out, '--to', join(scratch, 'r2'), '--compare', join(scratch, 'nothing')]);
    expect(result.status).toBe(2);
    expect(result.stderr.trim()).toBe(`sim: --compare ${join(scratch, 'nothing')}: no such folder`);
    expect(existsSync(join(scratch, 'r2'))).toBe(false);
  });
});
