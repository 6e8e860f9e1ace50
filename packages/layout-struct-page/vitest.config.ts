import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  ssr: { resolve: { conditions: ['@foliolab/source', ...defaultServerConditions] } },
  test: {
    name: '@foliolab/layout-struct-page',
    environment: 'node',
    setupFiles: ['../../vitest.setup.ts'],
    include: ['src/**/*.test.ts'],
    passWithNoTests: false,
    testTimeout: 60000,
    hookTimeout: 60000,
  },
});
