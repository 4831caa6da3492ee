import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The folder of Kubestead's package.json — the repository root, or /app in the image — found by
 * walking up from this module: sources (src/lib/), compiled files (dist/lib/) and the bundle
 * (dist/bundle/) sit at different depths below it. rules/, crds/ and deploy/ are beside it.
 */
function findRoot(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'kubestead')
      return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json of kubestead above ${fileURLToPath(import.meta.url)}`);
  }
}

export const PACKAGE_ROOT = findRoot();

/** A path below the package root: `fromRoot('rules')`. */
export const fromRoot = (...parts: string[]): string => resolve(PACKAGE_ROOT, ...parts);

/** The package's version, from its package.json. */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(fromRoot('package.json'), 'utf8')) as { version?: string }).version ?? 'unknown';
}
