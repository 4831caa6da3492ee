// What the benches share: the sandbox cluster in a process of its own, percentiles, and the
// controller's warnings passed through.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * `kubestead sandbox` in a process of its own (so that the bench's process is what it measures); its
 * kubeconfig path and pid. `nodeFlags` go to its node (e.g. `--cpu-prof`, written when it stops).
 */
export async function startSandboxProcess(extra = ['--ready-delay', '50'], nodeFlags = []) {
  const dir = await mkdtemp(join(tmpdir(), 'kubestead-bench-'));
  const kubeconfig = join(dir, 'kubeconfig');
  const child = spawn(
    process.execPath,
    [...nodeFlags, join(ROOT, 'bin/kubestead'), 'sandbox', '--kubeconfig', kubeconfig, ...extra],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise((done, fail) => {
    let out = '';
    child.stdout.on('data', (c) => {
      out += c;
      if (out.includes('Kubeconfig written')) done();
    });
    child.on('exit', (code) => fail(new Error(`sandbox exited ${code}`)));
  });
  return {
    kubeconfig,
    pid: child.pid,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.on('exit', r));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The q-quantile of `samples` (nearest rank). */
export function percentile(samples, q) {
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
}

/** Passes on the lines of a JSON log at level warn (40) or above, and anything that is not JSON (a crash). */
export function forwardWarnings(stream, prefix = 'kubestead run') {
  let rest = '';
  stream.on('data', (chunk) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop();
    for (const line of lines) {
      let level = 100;
      try {
        level = JSON.parse(line).level ?? 100;
      } catch {
        /* not a log line */
      }
      if (level >= 40) process.stderr.write(`${prefix}: ${line}\n`);
    }
  });
}
