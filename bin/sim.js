#!/usr/bin/env node
// Runs the JavaScript built from src/ into dist/ (`npm install` builds it; `npm test` rebuilds it when
// stale). `sim --version` names the commit it was built from.
import { existsSync } from 'node:fs';

const main = new URL('../dist/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('sim: the build is missing (dist/); run `npm install` or `npm run build` in the sim folder\n');
  process.exit(1);
}
// Stack traces name the TypeScript files, but only with --debug: source maps cost time at every start.
if (process.argv.includes('--debug')) process.setSourceMapsEnabled(true);
await import(main.href);
