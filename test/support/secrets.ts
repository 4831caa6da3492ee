import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { runDir } from './run-dir.js';

/** Every planted secret starts with this: recognisable in any output, by eye and by the end-of-suite scan. */
export const SECRET_MARKER = 'KSSECRET';

/**
 * Mints a secret value for a test to plant (an API key, a token, a password, an HMAC key): `KSSECRET-<label>-<random>`,
 * recorded in the run directory so that the end-of-suite scan (test/support/secret-scan.ts) looks for it, plain and
 * base64, in everything the product wrote. The ONE way tests make secret values.
 */
export function mintSecret(label = 'value', root = runDir()): string {
  const value = `${SECRET_MARKER}-${label.replace(/[^A-Za-z0-9_-]/g, '_')}-${randomBytes(8).toString('hex')}`;
  const dir = join(root, 'minted');
  mkdirSync(dir, { recursive: true });
  appendFileSync(join(dir, `${process.pid}.txt`), `${value}\n`);
  return value;
}

/** A Standard Webhooks HMAC secret (`whsec_` + base64 of ≥ 24 bytes) whose key bytes are a minted secret. */
export function mintWebhookSecret(label = 'hmac', root = runDir()): string {
  return `whsec_${Buffer.from(mintSecret(label, root)).toString('base64')}`;
}
