import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ROOT } from '../helpers.js';

/**
 * Third-party material that tests use as referees, kept beside the repository and never copied
 * into it: the routers' published CRDs and the Python client's own end-to-end suite.
 */
export const THIRD_PARTY = {
  crds: { dir: resolve(ROOT, '..', 'shared', 'thirdparty-crds'), what: 'the Istio, Gateway API and SMI CRDs' },
  pythonE2e: {
    dir: resolve(ROOT, '..', 'shared', 'thirdparty-python-e2e'),
    what: "the Kubernetes Python client's e2e suite",
  },
} as const;

/**
 * Whether the tests that need `material` can run. In a user's clone (nothing beside it) they skip
 * with a loud notice; in CI (`CI=true`) a missing folder is a failure, so CI never passes by skipping.
 */
export function thirdPartyPresent(material: keyof typeof THIRD_PARTY, tests: string): boolean {
  const { dir, what } = THIRD_PARTY[material];
  if (existsSync(dir)) return true;
  if (process.env.CI === 'true') throw new Error(`${what} are missing: ${dir} does not exist (CI=true)`);
  console.warn(`\n!!! SKIPPING ${tests}: ${dir} does not exist, so ${what} cannot be used !!!\n`);
  return false;
}
