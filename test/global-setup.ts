import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RUN_DIR_ENV } from './support/run-dir.js';
import { describeFindings, mintedSecrets, outputFiles, scanRun } from './support/secret-scan.js';

/**
 * CLI tests run the real bin/kubestead, which runs dist/bundle/: build dist/ and the bundle once, fresh, before any test —
 * unless the caller built it already (KUBESTEAD_DIST_BUILT=1: .ci/run's two side-by-side runs share one build).
 *
 * Every run gets a run directory (test/support/run-dir.ts) for the secrets the tests mint and the output the product
 * wrote; at the end, the secret scan fails the run when any minted secret is in that output, naming the file.
 */
export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'kubestead-run-'));
  process.env[RUN_DIR_ENV] = dir;
  if (process.env.KUBESTEAD_DIST_BUILT !== '1') {
    const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
    execFileSync(process.execPath, [resolve(root, 'scripts/build.mjs')], { cwd: root, stdio: 'inherit' });
  }
  return () => secretScan(dir);
}

/**
 * The end-of-suite secret scan: fails the run (exit code 1; vitest only logs an error thrown in a teardown) naming each
 * file a minted secret was found in, and keeps the run directory to look at.
 */
function secretScan(dir: string): void {
  const findings = scanRun(dir);
  if (findings.length > 0) {
    console.error(`${describeFindings(dir, findings)}\n(run directory kept)`);
    process.exitCode = 1;
    return;
  }
  const files = outputFiles(dir).length;
  console.log(
    `secret scan: ${mintedSecrets(dir).length} minted secret(s), none in the ${files} file(s) the product wrote`,
  );
  rmSync(dir, { recursive: true, force: true });
}
