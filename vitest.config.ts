import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Tests run the sandbox package from its sources (the CLI, built, loads packages/sandbox/dist).
  resolve: {
    alias: { '@kubestead/sandbox': fileURLToPath(new URL('packages/sandbox/src/index.ts', import.meta.url)) },
  },
  test: {
    include: ['test/**/*.test.ts', 'packages/*/test/**/*.test.ts'],
    // The slow fault scenarios have their own run: npm run test:reliability (vitest.reliability.config.ts).
    exclude: ['**/node_modules/**', 'test/reliability/scenarios/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    globalSetup: ['test/global-setup.ts'],
  },
});
