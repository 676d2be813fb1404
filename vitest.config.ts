import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'migrations/**/*.test.ts', 'test/**/*.test.ts'],
    // The end-to-end tests spawn bin/sim.js, which runs dist/: rebuilt first when it is stale.
    globalSetup: ['test/support/build.ts'],
    // The machine has 2 cores; end-to-end tests spawn child processes of their own.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
