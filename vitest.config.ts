import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/rig/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: the rig starts real registries, so keep parallel files bounded.
    maxWorkers: 2,
    minWorkers: 1,
    pool: 'forks',
    reporters: ['default'],
  },
});
