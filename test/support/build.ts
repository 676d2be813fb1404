import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../helpers.js';

/**
 * vitest global setup: the end-to-end tests run bin/sim.js, which runs the build in dist/, so the
 * build is brought up to date with the sources first (a no-op when it already is). Then a test
 * can never pass or fail on a stale build.
 */
export default function buildBeforeTests(): void {
  const result = spawnSync(process.execPath, [join(PROJECT_ROOT, 'scripts', 'build.mjs'), '--if-stale'], { cwd: PROJECT_ROOT, stdio: 'inherit' });
  if (result.status !== 0) throw new Error('the build of dist/ failed (see above); the end-to-end tests run it');
}
