/**
 * Whether dist/ is older than what it is built from: shared by scripts/build.mjs and bin/sim.js (which
 * checks at every start, in a few milliseconds, so that sim never runs a stale build).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
export const DIST = join(ROOT, 'dist');
export const BUILD_INFO = join(DIST, 'build-info.json');
/** What the build is made of: a change to any of these makes dist/ stale. */
export const INPUT_DIRS = ['src', 'migrations'];
export const INPUT_FILES = ['package.json', 'package-lock.json', 'tsconfig.json', 'scripts/build.mjs', 'scripts/build-state.mjs'];

/** Newest modification time among the inputs (directories included, so a deleted file counts). */
export function newestInput() {
  let newest = 0;
  // Paths joined by hand: path.join's normalising was a third of this walk, which runs at every start.
  const visit = (path) => {
    const stat = statSync(path, { throwIfNoEntry: false });
    if (!stat) return;
    if (stat.mtimeMs > newest) newest = stat.mtimeMs;
    if (stat.isDirectory()) for (const name of readdirSync(path)) visit(`${path}/${name}`);
  };
  for (const path of [...INPUT_DIRS, ...INPUT_FILES]) visit(join(ROOT, path));
  return newest;
}

/** What scripts/build.mjs recorded about the build in dist/, or null without one. */
export function readBuildInfo() {
  try {
    return JSON.parse(readFileSync(BUILD_INFO, 'utf8'));
  } catch {
    return null;
  }
}

/** dist/ is missing, or a source changed after it was built. */
export function sourcesNewerThanBuild(info = readBuildInfo()) {
  return !info || newestInput() > info.inputsNewest;
}
