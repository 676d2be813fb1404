// typescript-eslint, as this project lints with it. It reads types through TypeScript's compiler
// API, which TypeScript 7 (the native compiler that `tsc` is here) does not offer, so this package
// gives it TypeScript 6.0 in its own node_modules, and package.json's `overrides` keep ts-api-utils
// (which typescript-eslint uses, and which would otherwise be hoisted beside TypeScript 7) here too.
// The project itself type-checks with TypeScript 7.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
for (const name of ['typescript-eslint', 'ts-api-utils']) {
  const typescript = createRequire(require.resolve(name))('typescript');
  if (typeof typescript.createProgram !== 'function') {
    throw new Error(`tools/lint: ${name} loads TypeScript ${typescript.version}, which has no compiler API; run \`npm ci\` (tools/lint/package.json and package.json's overrides give it TypeScript 6)`);
  }
}

// Imported after the check (a static import would run before it).
const { default: tseslint } = await import('typescript-eslint');
export default tseslint;
