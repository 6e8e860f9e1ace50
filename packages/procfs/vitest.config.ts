import { fileURLToPath } from 'node:url';
import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Root at the package so `npx vitest run --config packages/procfs/vitest.config.ts` works from the repo root too.
  root: fileURLToPath(new URL('.', import.meta.url)),
  ssr: { resolve: { conditions: ['@foliolab/source', ...defaultServerConditions] } },
  test: {
    name: '@foliolab/procfs',
    environment: 'node',
    setupFiles: ['../../vitest.setup.ts'],
    include: ['src/**/*.test.ts'],
    passWithNoTests: false,
    // live reads and 50 MB gzip round trips slow down a lot when the 2 cores are busy
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
