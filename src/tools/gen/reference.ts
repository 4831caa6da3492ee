import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { policyReference } from '../reference/policy-reference.js';
import { PACKAGE_ROOT } from '../../lib/root.js';

export const POLICY_REFERENCE_FILE = resolve(PACKAGE_ROOT, 'docs', 'reference', 'policy.md');

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  mkdirSync(dirname(POLICY_REFERENCE_FILE), { recursive: true });
  writeFileSync(POLICY_REFERENCE_FILE, policyReference());
  process.stdout.write(`wrote ${POLICY_REFERENCE_FILE}\n`);
}
