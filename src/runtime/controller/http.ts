import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/** A named health check and whether it passes now. */
export interface Check {
  name: string;
  ok: boolean;
}

export interface HealthSource {
  /** Liveness: the process can still do its job (the dispatcher runs). */
  live(): Check[];
  /**
   * Readiness: informers synced and leader election healthy (leading, or standing by with the API server answering).
   */
  ready(): Check[];
}

/** `:8080`, `127.0.0.1:0`, `[::1]:9090` or `8080` → host (undefined: every interface) and port. */
export function parseAddress(text: string, flag: string): { host?: string; port: number } {
  const match = /^(?:(\[[^\]]+\]|[^:]*):)?(\d+)$/.exec(text.trim());
  const port = Number(match?.[2]);
  if (!match || !Number.isInteger(port) || port > 65535)
    throw new Error(`${flag}: expected [HOST]:PORT (0 picks a free port), got ${JSON.stringify(text)}`);
  const host = match[1]?.replace(/^\[|\]$/g, '');
  return { host: host === '' ? undefined : host, port };
}

async function listen(server: Server, address: { host?: string; port: number }): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port, address.host, () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

function reply(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** Kubernetes' verbose health format: one `[+]name ok` or `[-]name failed` line per check, then the verdict. */
function healthBody(checks: Check[]): { status: number; body: string } {
  const ok = checks.every((c) => c.ok);
  const lines = checks.map((c) => `[${c.ok ? '+' : '-'}]${c.name} ${c.ok ? 'ok' : 'failed'}`);
  return { status: ok ? 200 : 503, body: `${lines.join('\n')}\n${ok ? 'ok' : 'not ok'}\n` };
}

export interface RunningServer {
  port: number;
  close(): Promise<void>;
}

function running(server: Server, port: number): RunningServer {
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** `/metrics` in the Prometheus text format. */
export async function serveMetrics(
  address: { host?: string; port: number },
  registry: Registry,
): Promise<RunningServer> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.url?.split('?')[0] !== '/metrics') {
      reply(res, 404, 'text/plain', 'not found\n');
      return;
    }
    registry.metrics().then(
      (text) => reply(res, 200, registry.contentType, text),
      (error: unknown) => reply(res, 500, 'text/plain', `${(error as Error).message}\n`),
    );
  });
  return running(server, await listen(server, address));
}

/** `/healthz` (liveness) and `/readyz` (readiness). */
export async function serveHealth(
  address: { host?: string; port: number },
  source: HealthSource,
): Promise<RunningServer> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = req.url?.split('?')[0];
    const checks = path === '/healthz' ? source.live() : path === '/readyz' ? source.ready() : undefined;
    if (!checks) {
      reply(res, 404, 'text/plain', 'not found\n');
      return;
    }
    const { status, body } = healthBody(checks);
    reply(res, status, 'text/plain; charset=utf-8', body);
  });
  return running(server, await listen(server, address));
}
