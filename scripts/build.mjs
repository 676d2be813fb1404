#!/usr/bin/env node
/**
 * Builds what bin/sim.js runs: src/ bundled by esbuild into dist/ (dist/main.js, the two worker
 * entries, and shared chunks loaded on demand, so a command loads only its own code), with the git
 * commit the build was made from compiled in for `sim --version` and recorded in dist/build-info.json.
 * Types are not checked here: `npm test` runs `tsc --noEmit` first.
 *
 *   node scripts/build.mjs             always build (npm's `prepare` runs this at `npm install`)
 *   node scripts/build.mjs --if-stale  build only when dist/ is missing or older than its sources or
 *                                      the commit (the tests' global setup runs this)
 *
 * Plain JavaScript on purpose: it runs before anything is built. The new build is written beside
 * dist/ and swapped in at the end, so a `sim` started meanwhile never sees half a build.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { DIST, INPUT_DIRS, INPUT_FILES, newestInput, readBuildInfo, ROOT, sourcesNewerThanBuild } from './build-state.mjs';

function git(args) {
  const r = spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** The commit checked out, and whether the build's inputs differ from it; commit null without git. */
function sourceState() {
  const commit = git(['rev-parse', 'HEAD']);
  if (!commit) return { commit: null, dirty: false };
  const changes = git(['status', '--porcelain', '--', ...INPUT_DIRS, ...INPUT_FILES]);
  return { commit, dirty: changes === null || changes !== '' };
}

function isStale(state) {
  const built = readBuildInfo();
  if (!built || built.commit !== state.commit || built.dirty !== state.dirty) return true;
  return sourcesNewerThanBuild(built);
}

/**
 * zod re-exports its 60 locales as `z.locales`; sim's messages are English (zod's default, which it
 * imports itself), and the other 59 are 370 KB that every command touching the store would parse.
 */
const englishOnlyZod = {
  name: 'zod-english-only',
  setup(build) {
    build.onLoad({ filter: /[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, (args) => ({
      contents: "export { default as en } from './en.js';\n",
      resolveDir: dirname(args.path),
      loader: 'js',
    }));
  },
};

/** Every src/**\/*-worker.ts, relative to the root. */
function workerEntries(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return workerEntries(path);
    return entry.name.endsWith('-worker.ts') ? [relative(ROOT, path)] : [];
  });
}

async function loadEsbuild() {
  try {
    return await import('esbuild');
  } catch {
    return null;
  }
}

const state = sourceState();
if (process.argv.includes('--if-stale') && !isStale(state)) process.exit(0);

const inputsNewest = newestInput(); // before compiling: an edit made during the build leaves it stale
const esbuild = await loadEsbuild();
if (!esbuild) {
  process.stderr.write(
    'sim build: esbuild is not installed, so dist/ cannot be built; run `npm install` in the sim folder\n',
  );
  process.exit(1);
}

const fresh = join(ROOT, `dist.building-${process.pid}`);
const old = join(ROOT, `dist.old-${process.pid}`);
rmSync(fresh, { recursive: true, force: true });
try {
  await esbuild.build({
    absWorkingDir: ROOT,
    // Code starts a worker thread from './<name>-worker.js' next to its own file (under the tests, a
    // shim there loads the TypeScript): every src/**/*-worker.ts is an entry of its own, and
    // entries and chunks all land flat in dist/, so that path holds in the build too.
    entryPoints: ['src/cli/main.ts', ...workerEntries(join(ROOT, 'src'))],
    entryNames: '[name]',
    chunkNames: '[name]-[hash]',
    outdir: fresh,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // A native addon stays a package; everything else is bundled (hundreds of small files cost more
    // to resolve and load than one chunk).
    external: ['better-sqlite3'],
    // Bundled CommonJS packages call require() for Node's own modules.
    banner: { js: "import { createRequire as __simCreateRequire } from 'node:module';\nconst require = __simCreateRequire(import.meta.url);" },
    define: { __SIM_BUILD__: JSON.stringify({ commit: state.commit, dirty: state.dirty }) },
    sourcemap: true,
    plugins: [englishOnlyZod],
    logLevel: 'warning',
  });
} catch {
  rmSync(fresh, { recursive: true, force: true });
  process.stderr.write('sim build: esbuild failed (errors above); dist/ was left as it was\n');
  process.exit(1);
}
writeFileSync(join(fresh, 'build-info.json'), `${JSON.stringify({ commit: state.commit, dirty: state.dirty, inputsNewest, builtAt: new Date().toISOString() }, null, 2)}\n`);
if (existsSync(DIST)) renameSync(DIST, old);
renameSync(fresh, DIST);
rmSync(old, { recursive: true, force: true });
