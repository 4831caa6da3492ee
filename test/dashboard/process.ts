import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { resolve } from 'node:path';
import { ROOT } from '../helpers.js';
import { runOutput } from '../support/run-dir.js';
import { waitFor } from '../support/wait.js';

/** A real `bin/kubestead dashboard` process; `url` once it printed it. */
export class DashboardProcess {
  output = '';
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;

  private constructor(args: string[], kubeconfig: string) {
    this.child = spawn(process.execPath, [resolve(ROOT, 'bin/kubestead'), 'dashboard', '--port', '0', ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', KUBECONFIG: kubeconfig },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const kept = runOutput('dashboard-log');
    const take = (c: Buffer): void => {
      kept.append(c.toString());
      this.output += c.toString();
    };
    this.child.stdout?.on('data', take);
    this.child.stderr?.on('data', take);
    this.exited = new Promise((done) => this.child.on('exit', (code) => done(code)));
  }

  static async start(kubeconfig: string, args: string[] = []): Promise<DashboardProcess & { url: string }> {
    const proc = new DashboardProcess(args, kubeconfig);
    const url = await waitFor(
      () => /(http:\/\/\S+\/)\n/.exec(proc.output)?.[1],
      60_000,
      () => `the dashboard's URL (output: ${proc.output})`,
    );
    return Object.assign(proc, { url });
  }

  stop(): Promise<number | null> {
    this.child.kill('SIGTERM');
    return this.exited;
  }
}

/** A request with any method (fetch hides some of them): status, Allow header and body. */
export function call(
  url: string,
  method = 'GET',
  headers: Record<string, string> = {},
): Promise<{ status: number; allow: string | undefined; type: string | undefined; text: string }> {
  return new Promise((done, reject) => {
    const body = method === 'GET' || method === 'HEAD' ? undefined : '{}';
    const sent =
      body === undefined ? headers : { ...headers, 'Content-Type': 'application/json', 'Content-Length': '2' };
    const req = request(url, { method, headers: sent }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () =>
        done({ status: res.statusCode ?? 0, allow: res.headers.allow, type: res.headers['content-type'], text }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}
