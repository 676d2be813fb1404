import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runSim } from './helpers.js';

const scratch = mkdtempSync(join(tmpdir(), 'sim-cli-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('sim CLI skeleton', () => {
  it('prints help listing the commands', () => {
    const result = runSim(['--help']);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/Usage: sim/);
    expect(result.stdout).toMatch(/runs/);
  });

  it('`sim runs --json` on a new directory prints [] and creates nothing', () => {
    const out = join(scratch, 'fresh');
    const result = runSim(['runs', '--json', '--out', out]);
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual([]);
  });

  it('exits 2 with a one-line message on an unknown option', () => {
    const result = runSim(['runs', '--no-such-flag']);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/unknown option '--no-such-flag'/);
  });

  it('exits 1 with one line naming the file for a database that is not SQLite', async () => {
    const { writeFileSync, mkdirSync } = await import('node:fs');
    const out = join(scratch, 'foreign');
    mkdirSync(out);
    writeFileSync(join(out, 'sim.db'), 'not a database at all');
    const result = runSim(['runs', '--out', out]);
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/foreign\/sim\.db: not a SQLite database/);
    expect(result.stderr).not.toMatch(/at .*\.ts:\d+/);
  });
});
