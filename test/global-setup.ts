import { execFileSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * CLI tests run the real bin/kubestead, which runs dist/bundle/: build dist/ and the bundle once, fresh, before any test —
 * unless the caller built it already (KUBESTEAD_DIST_BUILT=1: .ci/run's two side-by-side runs share one build).
 */
export default function setup(): void {
  if (process.env.KUBESTEAD_DIST_BUILT === '1') return;
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  execFileSync(process.execPath, [resolve(root, 'scripts/build.mjs')], { cwd: root, stdio: 'inherit' });
}
