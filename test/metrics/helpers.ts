import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import type { CheckSpec, PolicySpec, ProviderSpec } from '../../src/pipeline/policy/schema.js';
import { staticSecretReader, type SecretReader } from '../../src/adapters/secrets/reader.js';
import type { MeasureContext } from '../../src/adapters/providers/types.js';

export interface RecordedRequest {
  method: string;
  url: URL;
  headers: IncomingMessage['headers'];
  body: string;
}

export type Handler = (req: RecordedRequest, res: ServerResponse) => void | Promise<void>;

export interface TestServer {
  url: string;
  port: number;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/**
 * An HTTP server on 127.0.0.1 (or `host`: 127.0.0.2 is loopback too, an address of its own to allow-list) that
 * records every request and answers with `handler`.
 */
export async function startServer(
  handler: Handler,
  server: Server = createServer(),
  host = '127.0.0.1',
): Promise<TestServer> {
  const requests: RecordedRequest[] = [];
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const recorded = {
        method: req.method ?? 'GET',
        url: new URL(req.url ?? '/', 'http://127.0.0.1'),
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(recorded);
      void Promise.resolve(handler(recorded, res)).catch((error: unknown) => {
        res.statusCode = 599;
        res.end(String(error));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as AddressInfo).port;
  const scheme = 'key' in server ? 'https' : 'http';
  return {
    url: `${scheme}://${host}:${port}`,
    port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(text);
}

/**
 * A server that drops every connection as it comes (a network error for the client), holding its port
 * until closed: unlike a port bound and released, no parallel test can take it in between.
 */
export async function droppingServer(): Promise<{ url: string; connections: () => number; close(): Promise<void> }> {
  let connections = 0;
  const server = createNetServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    connections: () => connections,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export const TICK = new Date('2026-11-26T10:00:00Z');

export function tickContext(
  overrides: Partial<MeasureContext> = {},
  secrets: SecretReader = staticSecretReader({}),
): MeasureContext {
  return {
    time: TICK,
    target: { name: 'checkout', namespace: 'shop' },
    policy: { name: 'checkout', namespace: 'shop' },
    rollout: { canaryRevision: '7f9c6d' },
    intervalSeconds: 30,
    secrets,
    ...overrides,
  };
}

export function check(overrides: Partial<CheckSpec> = {}): CheckSpec {
  return { name: 'error-rate', provider: 'p', query: 'up', max: 0.01, ...overrides };
}

export function policySpec(providers: Record<string, ProviderSpec>, checks: CheckSpec[]): PolicySpec {
  return {
    targetRef: { kind: 'Deployment', name: 'checkout' },
    interval: '30s',
    steps: [{ weight: 10 }],
    trafficRouting: { replicas: {} },
    providers,
    checks,
    derived: {},
    rules: [],
    onMetricUnavailable: 'rollback',
    mode: 'active',
    podHealth: { maxRestarts: 3, progressDeadline: '10m', maxWarningEvents: null },
  };
}
