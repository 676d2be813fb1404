// `npm run lint` (and `npm test`): typed lint rules that catch what the type-checker lets through,
// above all a promise nobody awaits or handles. Only correctness rules, no style.
import { defineConfig } from 'eslint/config';
import tseslint from '@gotv-sim/lint';

export default defineConfig(
  { ignores: ['dist/', 'dist.*/', 'node_modules/', 'tools/', 'simulation_results/', 'result_data/', 'users_data/', 'tmp/'] },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // A promise must be awaited, returned or handled (.catch / .then with a rejection handler).
      '@typescript-eslint/no-floating-promises': 'error',
      // No promise where a plain value is expected: an async callback where the caller ignores the
      // result (forEach, an event listener, a sync callback), a promise in an `if`.
      '@typescript-eslint/no-misused-promises': 'error',
      // `await` only on something that can be awaited.
      '@typescript-eslint/await-thenable': 'error',
      // Inside try, a returned promise is awaited, so its rejection reaches the catch and the
      // finally runs after it settles, not before (a lock released while its work still runs).
      '@typescript-eslint/return-await': ['error', 'in-try-catch'],
    },
  },
);
