import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

/**
 * The slow reliability scenarios (docs/reliability.md): real `kubestead run` processes against a
 * sandbox with faults injected. They run on their own (`npm run test:reliability`, after the main
 * suites in .ci/run), one file at a time, so their timings never compete with other suites.
 */
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: ['test/reliability/scenarios/**/*.test.ts'],
    exclude: ['**/node_modules/**'],
    fileParallelism: false,
    testTimeout: 240_000,
  },
});
