import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** One minted secret found in a file the product wrote. */
export interface SecretFinding {
  file: string;
  secret: string;
  /** How it was written: `plain`, `base64` or `base64url`. */
  form: string;
}

/**
 * The forms a secret can take in output: itself, and base64/base64url at each of the three byte alignments it can
 * have inside a longer encoded text (the characters that depend on neighbouring bytes left off).
 */
export function secretForms(secret: string): Array<{ form: string; text: string }> {
  const forms = [{ form: 'plain', text: secret }];
  const bytes = Buffer.from(secret);
  for (let skip = 0; skip < 3; skip++) {
    const aligned = bytes.subarray(skip, skip + Math.floor((bytes.length - skip) / 3) * 3);
    forms.push({ form: 'base64', text: aligned.toString('base64') });
    forms.push({ form: 'base64url', text: aligned.toString('base64url') });
  }
  return forms;
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** The secrets minted during the run (test/support/secrets.ts). */
export function mintedSecrets(root: string): string[] {
  const values = filesUnder(join(root, 'minted')).flatMap((f) => readFileSync(f, 'utf8').split('\n'));
  return [...new Set(values.filter((v) => v !== ''))];
}

/** The files of what the product wrote during the run. */
export function outputFiles(root: string): string[] {
  return filesUnder(join(root, 'out'));
}

/** Every minted secret found, in any form, in every file under the run directory's `out/`. */
export function scanRun(root: string): SecretFinding[] {
  const secrets = mintedSecrets(root).map((secret) => ({ secret, forms: secretForms(secret) }));
  const findings: SecretFinding[] = [];
  for (const file of outputFiles(root)) {
    const text = readFileSync(file, 'latin1');
    for (const { secret, forms } of secrets) {
      const hit = forms.find((f) => text.includes(f.text));
      if (hit) findings.push({ file: relative(root, file), secret, form: hit.form });
    }
  }
  return findings;
}

/** The one-line-per-finding report of a failed scan. */
export function describeFindings(root: string, findings: SecretFinding[]): string {
  return [
    `secret scan: ${findings.length} planted secret value(s) found in what the product wrote (${root}):`,
    ...findings.map((f) => `  ${f.file}: ${f.secret} (${f.form})`),
  ].join('\n');
}
