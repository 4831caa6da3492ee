import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { ROOT } from '../helpers.js';
import { runOutput } from './run-dir.js';
import { waitFor } from './wait.js';

/** A real `kubestead sandbox` process (the CLI, built), its output and its exit. */
export class SandboxProcess {
  readonly exited: Promise<number | null>;
  private out = '';
  private err = '';

  private constructor(private readonly child: ChildProcess) {
    const output = runOutput('sandbox-log');
    child.stdout?.on('data', (c: Buffer) => {
      output.append(c.toString());
      this.out += c.toString();
    });
    child.stderr?.on('data', (c: Buffer) => {
      output.append(c.toString());
      this.err += c.toString();
    });
    this.exited = new Promise((done) => child.on('exit', (code) => done(code)));
  }

  /** Starts `kubestead sandbox ARGS`; resolves once it prints the export line (it serves from then on). */
  static async start(args: string[], cwd = ROOT): Promise<SandboxProcess> {
    const child = spawn(process.execPath, [resolve(ROOT, 'bin/kubestead'), 'sandbox', ...args], { cwd });
    const proc = new SandboxProcess(child);
    await waitFor(
      () => proc.out.includes('export KUBECONFIG=') || child.exitCode !== null,
      30_000,
      () => `the sandbox's export line (stderr: ${proc.err})`,
    );
    if (child.exitCode !== null) throw new Error(`kubestead sandbox exited ${child.exitCode}: ${proc.err}`);
    return proc;
  }

  get stdout(): string {
    return this.out;
  }

  get stderr(): string {
    return this.err;
  }

  /** The URL it says it listens on. */
  get url(): string {
    const url = /listening on (https:\/\/\S+)/.exec(this.out)?.[1];
    if (!url) throw new Error(`no URL in the sandbox's output: ${this.out}`);
    return url;
  }

  /** SIGTERM (it saves its --state) and its exit code. */
  async stop(): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    return this.exited;
  }

  /** Ends the process if it still runs (SIGKILL), for cleanup. */
  async close(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }
}
