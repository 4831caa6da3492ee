import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { ROOT } from '../helpers.js';
import { runOutput } from '../support/run-dir.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real bin/kubestead from the repository root; `stdin` is written to its standard input. */
export function kubestead(args: string[], stdin?: string): Promise<CliResult> {
  return new Promise((done, fail) => {
    const child = spawn(resolve(ROOT, 'bin/kubestead'), args, { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', fail);
    child.on('close', (code) => {
      runOutput('cli-output').append(stdout + stderr);
      done({ code: code ?? -1, stdout, stderr });
    });
    child.stdin.end(stdin ?? '');
  });
}
