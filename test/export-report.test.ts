import { parse } from 'csv-parse/sync';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSim } from './helpers.js';
import { writeUsersDir } from './support/users-files.js';

const scratch = mkdtempSync(join(tmpdir(), 'sim-export-'));
const users = writeUsersDir(join(scratch, 'users'), 120);
const out = join(scratch, 'out');
const to = join(scratch, 'csv');
const reportDir = join(scratch, 'report');
const REFERENCE = join(__dirname, '..', '..', 'shared', 'reference', 'llm-sociopol', 'seed_1');
const conditions = ['control', 'treatment_info_message', 'treatment_soc_message', 'experiment_soc_message'];

beforeAll(() => {
  const run = runSim(['run', '--users-dir', users, '--n-users', '100', '--seed', '3', '--conditions', conditions.join(','), '--out', out]);
  expect(run.status, run.stderr).toBe(0);
  const exported = runSim(['export', 'csv', '--out', out, '--to', to]);
  expect(exported.status, exported.stderr).toBe(0);
  const report = runSim(['report', '--out', out, '--to', reportDir]);
  expect(report.status, report.stderr).toBe(0);
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const read = (file: string) => parse(readFileSync(file), { relax_column_count: false }) as string[][];

describe('sim export csv', () => {
  it("writes the reference's files for every condition", () => {
    expect(readdirSync(to).sort()).toEqual([...conditions, 'population_summary.txt'].sort());
    for (const c of conditions) {
      for (const kind of ['voting_data', 'treatment_data', 'activity_data', 'engagement_data', 'personas', 'network']) expect(existsSync(join(to, c, `${c}_${kind}.csv`)), `${c} ${kind}`).toBe(true);
      expect(readFileSync(join(to, c, `${c}_network.graphml`), 'utf8')).toMatch(/<graph id="follows" edgedefault="directed">/);
    }
  });

  it('has the reference header: an empty first cell, then rounds -15 .. 30, one row per user', () => {
    const voting = read(join(to, 'control', 'control_voting_data.csv'));
    const expectedHeader = ['', ...Array.from({ length: 46 }, (_, i) => String(i - 15))];
    expect(voting[0]).toEqual(expectedHeader);
    if (existsSync(REFERENCE)) expect(voting[0]).toEqual(read(join(REFERENCE, 'control', 'control_voting_data.csv'))[0]);
    expect(voting).toHaveLength(101);
    expect(voting.every((row) => row.length === 47)).toBe(true);
    // likelihoods as the reference wrote them, e.g. "3.0", or empty
    expect(voting.slice(1).flatMap((r) => r.slice(1)).every((cell) => cell === '' || /^[0-4]\.0$/.test(cell))).toBe(true);
  });

  it('marks treatment per round of each treated period, and nothing in the warmup', () => {
    const treatment = read(join(to, 'treatment_soc_message', 'treatment_soc_message_treatment_data.csv'));
    const personas = read(join(to, 'treatment_soc_message', 'treatment_soc_message_personas.csv'));
    const age = new Map(personas.slice(1).map((r) => [r[0], Number(r[1])]));
    for (const row of treatment.slice(1)) {
      const warmup = row.slice(1, 17);
      const main = row.slice(17);
      expect(warmup.every((c) => c === '0')).toBe(true);
      expect(main.every((c) => c === (age.get(row[0])! >= 18 ? '1' : '0'))).toBe(true);
    }
    const control = read(join(to, 'control', 'control_treatment_data.csv'));
    expect(control.slice(1).every((r) => r.slice(1).every((c) => c === '0'))).toBe(true);
  });

  it('refuses to write into a non-empty folder without --force', () => {
    const again = runSim(['export', 'csv', '--out', out, '--to', to]);
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/the folder is not empty \(use --force to replace it\)/);
    expect(runSim(['export', 'csv', '--out', out, '--to', to, '--force']).status).toBe(0);
  });

  it('refuses an unknown run id', () => {
    const result = runSim(['export', 'csv', '99', '--out', out, '--to', join(scratch, 'nope')]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/no run with id 99/);
  });
});

describe('sim report', () => {
  const report = () => JSON.parse(readFileSync(join(reportDir, 'report.json'), 'utf8'));

  /** Mean of each user's last stated likelihood, and the sample variance, from a voting CSV. */
  function finals(condition: string): number[] {
    return read(join(to, condition, `${condition}_voting_data.csv`))
      .slice(1)
      .flatMap((row) => {
        const cells = row.slice(1).filter((c) => c !== '');
        return cells.length > 0 ? [Number(cells[cells.length - 1])] : [];
      });
  }
  const meanOf = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const varOf = (xs: number[]) => xs.reduce((a, x) => a + (x - meanOf(xs)) ** 2, 0) / (xs.length - 1);

  it('matches a by-hand computation from the exported CSVs to 1e-9', () => {
    const r = report();
    const control = finals('control');
    for (const condition of ['treatment_info_message', 'treatment_soc_message', 'experiment_soc_message']) {
      const treated = finals(condition);
      const effect = r.effects.find((e: { condition: string }) => e.condition === condition).likelihood;
      const estimate = meanOf(treated) - meanOf(control);
      const se = Math.sqrt(varOf(treated) / treated.length + varOf(control) / control.length);
      expect(Math.abs(effect.estimate - estimate)).toBeLessThan(1e-9);
      expect(Math.abs(effect.se - se)).toBeLessThan(1e-9);
      expect(Math.abs(effect.ci95[0] - (estimate - 1.959963984540054 * se))).toBeLessThan(1e-9);
    }
    const controlFigures = r.conditions.find((c: { condition: string }) => c.condition === 'control');
    expect(Math.abs(controlFigures.meanFinalLikelihood - meanOf(control))).toBeLessThan(1e-9);
  });

  it('computes turnout over users 18+ from the personas export', () => {
    const personas = read(join(to, 'treatment_soc_message', 'treatment_soc_message_personas.csv'));
    const adults = personas.slice(1).filter((r) => Number(r[1]) >= 18);
    const voters = adults.filter((r) => r[19] === '1').length;
    const figures = report().conditions.find((c: { condition: string }) => c.condition === 'treatment_soc_message');
    expect(figures.eligible).toBe(adults.length);
    expect(Math.abs(figures.turnout - voters / adults.length)).toBeLessThan(1e-12);
  });

  it('reports direct and spillover effects for a mixed condition', () => {
    const mixed = report().mixed;
    expect(mixed.map((m: { stream: string }) => m.stream)).toEqual(['experiment_soc_message']);
    expect(mixed[0].spillover.map((s: { treatedFollowees: string }) => s.treatedFollowees)).toEqual(['0', '1', '2', '3+']);
  });

  it('overlays a reference folder with --compare', () => {
    if (!existsSync(REFERENCE)) return;
    const dir = join(scratch, 'compare');
    const result = runSim(['report', '--out', out, '--to', dir, '--compare', REFERENCE]);
    expect(result.status, result.stderr).toBe(0);
    const compare = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')).compare;
    expect(compare.conditions.find((c: { condition: string }) => c.condition === 'control').meanFinalLikelihood).toBeCloseTo(2.518, 2);
    expect(readFileSync(join(dir, 'report.html'), 'utf8')).toContain('reference: treatment_soc_message');
  });
});
