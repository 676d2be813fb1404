#!/usr/bin/env node
// Runs the JavaScript that scripts/build.mjs bundles from src/ into dist/ (`npm install` builds it).
// When a source is newer than the build (an edit, a git pull), it rebuilds first, so sim never runs
// stale code; the check costs a few milliseconds. `sim --version` names the commit of the build.
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DIST, sourcesNewerThanBuild } from '../scripts/build-state.mjs';

if (sourcesNewerThanBuild()) {
  process.stderr.write('sim: building dist/ from src/ (missing, or older than the sources)\n');
  // The build's own output goes to stderr: stdout belongs to the command (`sim export events | ...`).
  const { spawnSync } = await import('node:child_process');
  const build = spawnSync(process.execPath, [fileURLToPath(new URL('../scripts/build.mjs', import.meta.url))], { stdio: ['ignore', 2, 2] });
  if (build.status !== 0) {
    process.stderr.write(`sim: dist/ is missing or older than src/ and could not be rebuilt (above); run \`npm install\` in ${fileURLToPath(new URL('..', import.meta.url))}\n`);
    process.exit(1);
  }
}
// Stack traces name the TypeScript files, but only with --debug: source maps cost time at every start.
if (process.argv.includes('--debug')) process.setSourceMapsEnabled(true);
await import(pathToFileURL(`${DIST}/main.js`).href);
