import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Sandbox } from '@kubestead/sandbox';

/** The real kubectl: tests skip only when it is absent outside CI (kubectl.test.ts fails under CI=true). */
export const KUBECTL = '/usr/bin/kubectl';
export const kubectlPresent = existsSync(KUBECTL);

export interface KubectlRun {
  stdout: string;
  stderr: string;
  code: number;
}

/** A kubectl bound to one sandbox (admin kubeconfig unless given), with its own HOME and cache. */
export interface Kubectl {
  run(...args: string[]): Promise<KubectlRun>;
  /** Writes a manifest into the temporary folder; returns its path. */
  file(name: string, text: string): Promise<string>;
  close(): Promise<void>;
}

export async function kubectlFor(sandbox: Sandbox, kubeconfig = sandbox.kubeconfigPath): Promise<Kubectl> {
  const dir = await mkdtemp(join(tmpdir(), 'kubestead-kubectl-'));
  return {
    run: (...args) =>
      new Promise((resolve) => {
        execFile(
          KUBECTL,
          ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache'), ...args],
          { timeout: 20_000, env: { PATH: process.env.PATH ?? '', HOME: dir } },
          (error, stdout, stderr) => {
            resolve({ stdout, stderr, code: error ? (typeof error.code === 'number' ? error.code : 1) : 0 });
          },
        );
      }),
    async file(name, text) {
      const path = join(dir, name);
      await writeFile(path, text);
      return path;
    },
    close: () => rm(dir, { recursive: true, force: true }),
  };
}
