import { defineConfig } from 'vitest/config';

// One file, one registry: the hooks publish and install (a few minutes at most), the tests read the result.
export default defineConfig({
  test: {
    name: '@foliolab/registry-e2e',
    environment: 'node',
    include: ['src/**/*.test.ts'],
    testTimeout: 120000,
    hookTimeout: 240000,
  },
});
