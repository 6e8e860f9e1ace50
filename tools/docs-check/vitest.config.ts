import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: { name: '@foliolab/docs-check', environment: 'node', include: ['src/**/*.test.ts'], testTimeout: 120000 },
});
