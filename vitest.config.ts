import { defineConfig } from 'vitest/config';

/**
 * `npx vitest run <path>` from the repository root: each package's tests run under that package's own
 * config (source imports through the `@foliolab/source` condition, its setup and timeouts), as
 * `npm test` runs them through Nx. Without this, a root run would resolve `@foliolab/*` to whatever
 * stale `dist/` a last build left and would also pick up compiled copies in `out-tsc/`.
 */
export default defineConfig({
  test: {
    projects: ['packages/*/vitest.config.ts', 'apps/*/vitest.config.ts', 'tools/*/vitest.config.ts'],
  },
});
