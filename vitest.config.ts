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
    reporters: ['default'],
  },
});
