import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

/**
 * The slow reliability scenarios (docs/reliability.md): real `kubestead run` processes against a
 * sandbox with faults injected. They run on their own (`npm run test:reliability`, after the main
 * suites in .ci/run), two files at a time: as many side by side as the main suites run in CI, each file with its
 * own sandbox and processes on ports the OS chose, and nothing else beside them.
 */
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: ['test/reliability/scenarios/**/*.test.ts'],
    exclude: ['**/node_modules/**'],
    maxWorkers: 2,
    testTimeout: 240_000,
  },
});
