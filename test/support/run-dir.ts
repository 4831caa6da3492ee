import { appendFileSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * One directory per test run (set by test/global-setup.ts in KUBESTEAD_TEST_RUN_DIR): the secrets the tests minted
 * (`minted/`) and everything the product wrote during the run that the tests saw (`out/`: logs of spawned processes,
 * what test receivers got, the sandbox's objects at close). The end-of-suite secret scan reads it
 * (test/support/secret-scan.ts).
 */
export const RUN_DIR_ENV = 'KUBESTEAD_TEST_RUN_DIR';

let fallback: string | undefined;

/** The run directory: the suite's, or (outside a suite run, e.g. a helper loaded by a script) a temporary one. */
export function runDir(): string {
  const dir = process.env[RUN_DIR_ENV] ?? (fallback ??= mkdtempSync(join(tmpdir(), 'kubestead-run-')));
  return dir;
}

let counter = 0;

/**
 * A new file under `out/` for what the product wrote, named after `kind` (`operator-log`, `siem-body`, …), this
 * worker and a counter; `append` adds to it. Helpers that spawn processes or receive requests call it once each.
 */
export function runOutput(kind: string, root = runDir()): { path: string; append: (text: string) => void } {
  const dir = join(root, 'out');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${kind.replace(/[^A-Za-z0-9_.-]/g, '_')}-${process.pid}-${++counter}.txt`);
  return { path, append: (text) => appendFileSync(path, text.endsWith('\n') ? text : `${text}\n`) };
}
