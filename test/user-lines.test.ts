import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runSim } from './helpers.js';

/** Lines a user reads after a mistake or a success (issue 27, the smaller defects): one clear line each. */
const scratch = mkdtempSync(join(tmpdir(), 'sim-lines-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const lines = (stderr: string) => stderr.trim().split('\n').filter((l) => !/^sim: no OpenAI API key found|^sim: building dist/.test(l));

describe('huge sizes are refused before anything is written', { timeout: 120_000 }, () => {
  it('sim run --num-contents 100000000: one line naming the flag and the memory, exit 2, no store', () => {
    const out = join(scratch, 'huge');
    const started = Date.now();
    const r = runSim(['run', '--n-users', '100', '--num-contents', '100000000', '--out', out]);
    expect(r.status).toBe(2);
    expect(lines(r.stderr)).toEqual([expect.stringMatching(/^sim: --num-contents 100000000: the run would need about \d[\d,.]* GB of memory \(100,000,000 initial posts x 2\.9 KB\), more than/)]);
    expect(existsSync(out)).toBe(false);
    // Refused from the settings, not after filling the heap (it ran 63 s before dying).
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('sim users generate --n 100000000: refused the same way, nothing written', () => {
    const out = join(scratch, 'users-huge');
    const r = runSim(['users', 'generate', '--n', '100000000', '--out', out]);
    expect(r.status).toBe(2);
    expect(lines(r.stderr)).toEqual([expect.stringMatching(/^sim: --n 100000000: generating the population would need about [\d,]+ GB of memory/)]);
    expect(existsSync(out)).toBe(false);
  });

  it('a heap raised with NODE_OPTIONS is what the check compares with', () => {
    // 2,000,000 initial posts need about 5.5 GB: over the default heap (about 4 GB), within 9 GB.
    const asked = ['run', '--n-users', '100', '--num-contents', '2000000', '--dry-run'];
    const small = runSim(asked, { env: { NODE_OPTIONS: '--max-old-space-size=2000' } });
    expect(small.status).toBe(2);
    expect(lines(small.stderr)[0]).toMatch(/more than Node's heap limit \([\d.]+ GB\); use a smaller value, or raise the limit: NODE_OPTIONS=--max-old-space-size=8000/);
    const raised = runSim(asked, { env: { NODE_OPTIONS: '--max-old-space-size=9000' } });
    expect(raised.status).toBe(0);
    expect(raised.stdout).toMatch(/initial posts 2000000/);
  });
});
