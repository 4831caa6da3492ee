import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Sandbox } from '@kubestead/sandbox';
import { ROOT } from '../helpers.js';
import { runOutput } from '../support/run-dir.js';
import { waitFor } from '../support/wait.js';

/** One JSON log line of the operator. */
export type LogLine = Record<string, unknown> & { msg?: string; level?: number };

/** A real `bin/kubestead run` process, its parsed log lines and its exit. */
export class OperatorProcess {
  readonly lines: LogLine[] = [];
  readonly raw: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;
  /** Everything it writes, kept for the end-of-suite secret scan. */
  private readonly output = runOutput('operator-log');

  /** `crashAt` (`POINT[:NTH]`): the test entry point instead, which exits 137 at that tick boundary (test/support/crashing-run.mjs). */
  constructor(args: string[], env: Record<string, string> = {}, crashAt?: string) {
    const command =
      crashAt === undefined
        ? [resolve(ROOT, 'bin/kubestead'), 'run']
        : [resolve(ROOT, 'test/support/crashing-run.mjs'), crashAt];
    this.child = spawn(process.execPath, [...command, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let buffered = '';
    this.child.stderr?.on('data', (chunk: Buffer) => {
      this.output.append(chunk.toString());
      buffered += chunk.toString();
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      for (const line of parts) this.take(line);
    });
    this.child.stdout?.on('data', (chunk: Buffer) => {
      this.output.append(chunk.toString());
      this.raw.push(chunk.toString());
    });
    const auditFile = args[args.indexOf('--audit-file') + 1];
    this.exited = new Promise((done) =>
      this.child.on('exit', (code, signal) => {
        // the audit file it wrote, for the end-of-suite secret scan
        if (args.includes('--audit-file') && auditFile && existsSync(auditFile))
          runOutput('audit-file').append(readFileSync(auditFile, 'utf8'));
        done({ code, signal });
      }),
    );
  }

  /** Starts `kubestead run` against the sandbox on free ports; resolves once its first log line names them. */
  static async start(
    sandbox: Pick<Sandbox, 'kubeconfigPath'>,
    extra: string[] = [],
    env: Record<string, string> = {},
    crashAt?: string,
  ): Promise<OperatorProcess & { metricsPort: number; healthPort: number }> {
    const proc = new OperatorProcess(
      [
        '--kubeconfig',
        sandbox.kubeconfigPath,
        '--metrics-addr',
        '127.0.0.1:0',
        '--health-addr',
        '127.0.0.1:0',
        ...extra,
      ],
      env,
      crashAt,
    );
    const first = await waitFor(() => proc.lines[0], 60_000, `the first log line (stderr: ${proc.raw.join('')})`);
    return Object.assign(proc, { metricsPort: Number(first.metricsPort), healthPort: Number(first.healthPort) });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** Ends the process if it still runs (SIGKILL), for cleanup. */
  async close(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }

  has(msg: string): boolean {
    return this.lines.some((l) => l.msg === msg);
  }

  private take(line: string): void {
    if (line.trim() === '') return;
    this.raw.push(line);
    try {
      this.lines.push(JSON.parse(line) as LogLine);
    } catch {
      // not JSON: kept in raw only
    }
  }
}
