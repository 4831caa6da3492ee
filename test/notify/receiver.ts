import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runOutput } from '../support/run-dir.js';

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The status it was answered with (null: left without an answer). */
  status: number | null;
}

/**
 * A local HTTP receiver playing Slack, Teams and a generic endpoint: records every request; answers each path with
 * the statuses queued for it (then 200), or holds requests while `hang` is set for the path.
 */
export class Receiver {
  readonly received: Received[] = [];
  private readonly queued = new Map<string, number[]>();
  private readonly hanging = new Set<string>();
  private server!: Server;
  /** Every body received, kept for the end-of-suite secret scan. */
  private readonly kept = runOutput('notification-body');
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const path = req.url ?? '';
        const entry: Received = { path, headers: req.headers, body: Buffer.concat(chunks).toString(), status: null };
        this.received.push(entry);
        this.kept.append(entry.body);
        if (this.hanging.has(path.split('?')[0]!)) return;
        entry.status = this.queued.get(path.split('?')[0]!)?.shift() ?? 200;
        res.writeHead(entry.status).end(entry.status === 200 ? 'ok' : 'failed');
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  answer(path: string, ...statuses: number[]): void {
    this.queued.set(path, statuses);
  }

  hang(path: string, on = true): void {
    if (on) this.hanging.add(path);
    else this.hanging.delete(path);
  }

  /** The accepted (200) requests to a path, their bodies parsed. */
  accepted(path: string): { headers: IncomingHttpHeaders; json: Record<string, unknown> }[] {
    return this.received
      .filter((r) => r.path.split('?')[0] === path && r.status === 200)
      .map((r) => ({ headers: r.headers, json: JSON.parse(r.body) as Record<string, unknown> }));
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
