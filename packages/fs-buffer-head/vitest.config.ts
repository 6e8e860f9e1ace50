import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  ssr: { resolve: { conditions: ['@foliolab/source', ...defaultServerConditions] } },
  test: {
    name: '@foliolab/fs-buffer-head',
    environment: 'node',
    include: ['src/**/*.test.ts'],
    passWithNoTests: false,
    testTimeout: 60_000,
  },
});
