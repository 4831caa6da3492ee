import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { ROOT } from '../helpers.js';
import { runOutput } from '../support/run-dir.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real bin/kubestead, optionally with standard input and environment. */
export function kubestead(args: string[], options: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  return new Promise((done) => {
    const child = execFile(
      resolve(ROOT, 'bin/kubestead'),
      args,
      { cwd: ROOT, env: { ...process.env, ...options.env } },
      (error, stdout, stderr) => {
        runOutput('cli-output').append(stdout + stderr);
        done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
      },
    );
    child.stdin?.end(options.input ?? '');
  });
}
