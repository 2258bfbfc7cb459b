import { defineConfig } from 'vitest/config';

// Tests run against the built packages (tsc -b runs first), beside the code that they prove.
export default defineConfig({
  test: {
    include: [
      'packages/*/src/**/*.test.ts',
      'stack/*/src/**/*.test.ts',
      'stack/chart/test/**/*.test.ts',
      'test/**/*.test.ts',
    ],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Vitest's default is one worker fewer than the cores: one on this project's 2-core machines, where
    // the suite then ran file after file (1,092 s, most of it lab tests waiting on their processes).
    // Two workers keep both cores busy; the lab tests wait on readiness, not fixed sleeps.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
