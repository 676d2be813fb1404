import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runSim } from './helpers.js';

/**
 * The golden fingerprint: the default experiment (the bundled population, every condition, the
 * offline model) on 300 users, seed 1, as `npx sim run --n-users 300` records it. Any change to what
 * a run records (a rule of the experiment, a random stream, the offline model, the event encoding)
 * changes it. A change made on purpose updates GOLDEN here in the same commit, saying why in the
 * commit message: run `npx sim run --n-users 300 --provider offline --out /tmp/golden` and copy the
 * `fingerprint` line (docs/performance.md and docs/distributed.md quote its first characters).
 */
const GOLDEN = '331d9fc921fb2226bb305215e34e1c4e5101c35af5ab9ba168d6fc8040df8c85';

const scratch = mkdtempSync(join(tmpdir(), 'sim-golden-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('the default experiment', () => {
  it('on 300 users, seed 1, offline, ends with the golden fingerprint', () => {
    const out = join(scratch, 'out');
    // --provider offline and an empty SIM_STORE: neither a key nor a store from the environment changes what is run.
    const result = runSim(['run', '--n-users', '300', '--provider', 'offline', '--out', out], { env: { SIM_STORE: '' } });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain(`\nfingerprint ${GOLDEN}\n`);
    const [run] = JSON.parse(runSim(['runs', '--json', '--out', out], { env: { SIM_STORE: '' } }).stdout) as Array<{ seed: number; status: string; fingerprint: string }>;
    expect(run).toMatchObject({ seed: 1, status: 'finished', fingerprint: GOLDEN });
  }, 300_000);
});
