import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT, runSim } from './helpers.js';

const scratch = mkdtempSync(join(tmpdir(), 'sim-users-cli-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('sim users', () => {
  it('regenerates the committed default population byte for byte with its documented seed', () => {
    const out = join(scratch, 'default');
    const result = runSim(['users', 'generate', '--n', '20000', '--seed', '2012', '--out', out]);
    expect(result.status, result.stderr).toBe(0);
    for (const file of ['profiles.csv', 'network.csv']) {
      expect(readFileSync(join(out, file)).equals(readFileSync(join(PROJECT_ROOT, 'users_data', file))), file).toBe(true);
    }
  });

  it('refuses to overwrite a population without --force, and replaces it with --force', () => {
    const out = join(scratch, 'existing');
    mkdirSync(out);
    writeFileSync(join(out, 'profiles.csv'), 'mine\n');
    writeFileSync(join(out, 'notes.txt'), 'kept\n');
    const refused = runSim(['users', 'generate', '--n', '50', '--out', out]);
    expect(refused.status).toBe(2);
    expect(refused.stderr.trim()).toBe(`sim: --out ${out}: already holds a population (profiles.csv); use --force to replace it`);
    expect(readFileSync(join(out, 'profiles.csv'), 'utf8')).toBe('mine\n');
    const forced = runSim(['users', 'generate', '--n', '50', '--out', out, '--force']);
    expect(forced.status, forced.stderr).toBe(0);
    expect(readFileSync(join(out, 'profiles.csv'), 'utf8').split('\n')).toHaveLength(52);
    expect(readFileSync(join(out, 'notes.txt'), 'utf8')).toBe('kept\n');
    // a folder without a population is written into as before
    const other = join(scratch, 'with-notes');
    mkdirSync(other);
    writeFileSync(join(other, 'notes.txt'), 'kept\n');
    expect(runSim(['users', 'generate', '--n', '50', '--out', other]).status).toBe(0);
  });

  it('prints the network statistics of a generated population within Twitter-like ranges', () => {
    const out = join(scratch, 'small');
    expect(runSim(['users', 'generate', '--n', '3000', '--seed', '1', '--out', out]).status).toBe(0);
    const stats = JSON.parse(runSim(['users', 'stats', out, '--json']).stdout);
    expect(stats.users).toBe(3000);
    expect(stats.meanOutDegree).toBeGreaterThan(17);
    expect(stats.meanOutDegree).toBeLessThan(23);
    expect(stats.reciprocity).toBeGreaterThan(0.2);
    expect(stats.reciprocity).toBeLessThan(0.4);
    expect(stats.top1PercentInShare).toBeGreaterThan(0.1);
    expect(stats.clustering).toBeGreaterThan(0.1);
    expect(stats.sameSideShare).toBeGreaterThan(stats.sameSideExpected + 0.1);
    expect(stats.minorShare).toBeGreaterThan(0.05);
    expect(stats.minorShare).toBeLessThan(0.11);
    const text = runSim(['users', 'stats', out]).stdout;
    expect(text).toMatch(/reciprocity\s+\d+\.\d% of follows are mutual/);
  });
});
