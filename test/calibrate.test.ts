import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runSim } from './helpers.js';
import { KNOWN, recoveryMisses } from './support/known-offline-params.js';

const scratch = mkdtempSync(join(tmpdir(), 'sim-calibrate-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const known = join(scratch, 'known.json');
writeFileSync(known, JSON.stringify({ format: 'sim-offline-params/1', parameters: KNOWN }));
const conditions = 'control,treatment_info_message,treatment_soc_message';

function recordedConfig(out: string): { offline_params: unknown } {
  const db = new Database(join(out, 'sim.db'), { readonly: true });
  try {
    return JSON.parse((db.prepare('select config from runs order by id desc limit 1').get() as { config: string }).config);
  } finally {
    db.close();
  }
}

describe('sim run --offline-params', () => {
  it('records the parameters in the run config, and replay uses them', () => {
    const out = join(scratch, 'replayed');
    const run = runSim(['run', '--provider', 'offline', '--n-users', '60', '--seed', '2', '--conditions', 'control', '--offline-params', known, '--out', out]);
    expect(run.status, run.stderr).toBe(0);
    expect(recordedConfig(out).offline_params).toEqual(KNOWN);
    const replay = runSim(['replay', '--seed', '2', '--out', out]);
    expect(replay.status, replay.stderr).toBe(0);
    expect(replay.stdout).toMatch(/^identical /m);
  }, 600_000);

  it('records the built-in parameters when given none', () => {
    const out = join(scratch, 'builtin');
    expect(runSim(['run', '--provider', 'offline', '--n-users', '30', '--conditions', 'control', '--out', out]).status).toBe(0);
    expect(recordedConfig(out).offline_params).toMatchObject({ cut12: expect.any(Number), socialBoost: expect.any(Number) });
  }, 300_000);

  it('refuses a file that is not a parameter file, naming it (usage error)', () => {
    const bad = join(scratch, 'bad.json');
    writeFileSync(bad, JSON.stringify({ format: 'sim-offline-params/1', parameters: { ...KNOWN, cut12: 'x' } }));
    const run = runSim(['run', '--provider', 'offline', '--n-users', '30', '--offline-params', bad, '--out', join(scratch, 'bad')]);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(`--offline-params ${bad}: "parameters" lacks a number for cut12`);
    const missing = runSim(['run', '--provider', 'offline', '--offline-params', join(scratch, 'nope.json'), '--out', join(scratch, 'bad')]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('cannot read it (ENOENT)');
  }, 300_000);
});

describe('sim calibrate', () => {
  it('recovers the parameters of a run exported with deliberately different ones', () => {
    const out = join(scratch, 'pilot');
    const csv = join(scratch, 'pilot-csv');
    const fitted = join(scratch, 'fitted.json');
    expect(runSim(['run', '--provider', 'offline', '--n-users', '400', '--seed', '9', '--conditions', conditions, '--offline-params', known, '--out', out], { timeoutMs: 300_000 }).status).toBe(0);
    expect(runSim(['export', 'csv', '--out', out, '--to', csv]).status).toBe(0);
    // The same users and seed as the pilot, as a user calibrating to their own pilot would choose.
    const calibrated = runSim(['calibrate', '--to', csv, '--n-users', '400', '--sim-seeds', '9', '--out', fitted], { timeoutMs: 600_000 });
    expect(calibrated.status, calibrated.stderr).toBe(0);
    expect(calibrated.stderr).toMatch(/pass 1: fitting/);
    // a table row, or (wider than 80 columns off a terminal) a block headed by the condition
    expect(calibrated.stdout).toMatch(/treatment_soc_message\s+\d\.\d{3}\s+\d\.\d{3}|^treatment_soc_message\n {2}first answers TV +\d\.\d{3}/m);
    const file = JSON.parse(readFileSync(fitted, 'utf8'));
    expect(file.format).toBe('sim-offline-params/1');
    expect(recoveryMisses(file.parameters)).toEqual([]);
    // What the file reports is the engine run with the fitted parameters: close to the pilot.
    for (const row of file.fit.comparison) expect(row.finalTv).toBeLessThan(0.05);
  }, 900_000);

  it('says what is missing in a folder that is not in the reference layout', () => {
    const r = runSim(['calibrate', '--to', scratch, '--out', join(scratch, 'x.json')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/missing .*control_voting_data\.csv/);
    const seeds = runSim(['calibrate', '--to', scratch, '--seeds', '1,a']);
    expect(seeds.status).toBe(2);
    expect(seeds.stderr).toContain('--seeds: "1,a" is not a comma-separated list of whole numbers');
  }, 300_000);
});
