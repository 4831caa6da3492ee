import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runOutput } from '../support/run-dir.js';
import { mintWebhookSecret } from '../support/secrets.js';

export interface ReceivedRequest {
  headers: IncomingHttpHeaders;
  body: string;
}

/** What the receiver does with the next request: answer, fail, or ingest and never answer. */
export type Behaviour = { status: number; retryAfter?: string; body?: string } | 'hang-after-ingest';

/** A local SIEM stand-in on a loopback port: records every request; its behaviour is set by the test. */
export class TestReceiver {
  readonly requests: ReceivedRequest[] = [];
  /** Requests the receiver ingested (answered 2xx, or hung after ingesting). */
  readonly ingested: ReceivedRequest[] = [];
  behaviour: (request: ReceivedRequest, index: number) => Behaviour = () => ({ status: 204 });
  private server: Server | null = null;
  private readonly hanging = new Set<ServerResponse>();
  /** Every body received, kept for the end-of-suite secret scan. */
  private readonly kept = runOutput('siem-body');

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => this.answer({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') }, res));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/ingest`;
  }

  /** Every entry ingested, after dedupe by hash, in arrival order. */
  entries(): Array<{ seq: number; hash: string }> {
    const seen = new Map<string, { seq: number; hash: string }>();
    for (const r of this.ingested)
      for (const e of (JSON.parse(r.body) as { entries: Array<{ seq: number; hash: string }> }).entries)
        if (!seen.has(e.hash)) seen.set(e.hash, e);
    return [...seen.values()];
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private answer(request: ReceivedRequest, res: ServerResponse): void {
    const behaviour = this.behaviour(request, this.requests.length);
    this.requests.push(request);
    this.kept.append(request.body);
    if (behaviour === 'hang-after-ingest') {
      this.ingested.push(request);
      this.hanging.add(res);
      return;
    }
    if (behaviour.status < 300) this.ingested.push(request);
    res
      .writeHead(behaviour.status, behaviour.retryAfter ? { 'retry-after': behaviour.retryAfter } : {})
      .end(behaviour.body);
  }
}

/** A Standard Webhooks secret, minted (the end-of-suite scan looks for it in everything the product wrote). */
export function newSecret(): string {
  return mintWebhookSecret('siem-hmac');
}
