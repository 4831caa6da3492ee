// How the controller image runs `kubestead run` (Dockerfile), for the benches that measure it.
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The Dockerfile's ENV lines (but NODE_ENV) and ENTRYPOINT's node flags, as `VAR=value` and
 * `--flag` tokens; BENCH_NODE_FLAGS (the same tokens) replaces them.
 */
export async function shippedCommand() {
  if (process.env.BENCH_NODE_FLAGS !== undefined) return process.env.BENCH_NODE_FLAGS.split(' ').filter(Boolean);
  const dockerfile = await readFile(join(ROOT, 'Dockerfile'), 'utf8');
  const env = [...dockerfile.matchAll(/^ENV (\w+=\S+)$/gm)].map((m) => m[1]).filter((e) => !e.startsWith('NODE_ENV='));
  const entrypoint = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)[1]);
  return [...env, ...entrypoint.slice(1).filter((arg) => arg.startsWith('--'))];
}
