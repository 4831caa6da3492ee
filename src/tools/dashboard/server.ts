import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Clock } from '../../lib/clock/clock.js';
import type { PolicySummary } from '../view/document.js';
import { PolicyNotFoundError } from '../view/read.js';
import type { Access } from './access.js';
import { ASSETS } from './assets.js';
import { notFoundPage, overviewPage, policyPage } from './pages.js';
import type { DashboardSource } from './source.js';

export interface DashboardOptions {
  source: DashboardSource;
  access: Access;
  clock: Clock;
  logger: Logger;
  /** Where to listen (default 127.0.0.1) and the port (0: one the OS picks). */
  host?: string;
  port?: number;
}

export interface Dashboard {
  url: string;
  close(): Promise<void>;
}

/** The list of policies `GET /api/v1/policies` serves: each policy's summary. */
export const LIST_KIND = 'PolicyStatusList';

const SECURITY_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
  // The pages fetch nothing from elsewhere: their own script, style and API only.
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
};

class HttpError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

interface Answer {
  code: number;
  type: string;
  body: string;
}

/** Sends an answer (its headers only, for HEAD). */
function send(res: ServerResponse, answer: Answer, head: boolean): void {
  const { code, type, body } = answer;
  res.writeHead(code, { ...SECURITY_HEADERS, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(head ? undefined : body);
}

const HTML = 'text/html; charset=utf-8';
const JSON_TYPE = 'application/json';

const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

/** `/policies/NS/NAME` and `/api/v1/namespaces/NS/policies/NAME`: the namespace and name, decoded. */
function policyRoute(path: string): { page: boolean; namespace: string; name: string } | null {
  const match =
    /^\/policies\/([^/]+)\/([^/]+)$/.exec(path) ?? /^\/api\/v1\/namespaces\/([^/]+)\/policies\/([^/]+)$/.exec(path);
  if (!match) return null;
  try {
    return {
      page: path.startsWith('/policies/'),
      namespace: decodeURIComponent(match[1]!),
      name: decodeURIComponent(match[2]!),
    };
  } catch {
    return null;
  }
}

/**
 * The dashboard: pages, their JSON API and their live updates, read-only by construction (any
 * method but GET and HEAD is a 405, and nothing here writes to the cluster).
 */
export class DashboardServer {
  private readonly server: Server;
  private readonly streams = new Set<() => void>();

  constructor(private readonly options: DashboardOptions) {
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  async listen(): Promise<Dashboard> {
    const host = this.options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port ?? 0, host, () => resolve());
    });
    const { port } = this.server.address() as AddressInfo;
    const shown = host.includes(':') ? `[${host}]` : host;
    return { url: `http://${shown === '0.0.0.0' ? '127.0.0.1' : shown}:${port}/`, close: () => this.close() };
  }

  private async close(): Promise<void> {
    for (const end of this.streams) end();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const head = req.method === 'HEAD';
    try {
      if (req.method !== 'GET' && !head) {
        res.setHeader('Allow', 'GET, HEAD');
        throw new HttpError(405, `the dashboard is read-only: ${req.method ?? '?'} is not allowed (GET, HEAD)`);
      }
      await this.route(req, res, head);
    } catch (error) {
      this.fail(req, res, error, head);
    }
  }

  private fail(req: IncomingMessage, res: ServerResponse, error: unknown, head: boolean): void {
    const code = error instanceof HttpError ? error.code : error instanceof PolicyNotFoundError ? 404 : 500;
    const message = code === 500 ? 'cannot read from the cluster' : (error as Error).message;
    if (code === 500)
      this.options.logger.warn({ err: (error as Error).message, path: req.url }, 'dashboard request failed');
    if (res.headersSent) return void res.end();
    if (code === 401) res.setHeader('WWW-Authenticate', 'Bearer');
    const api = (req.url ?? '').startsWith('/api/');
    if (api) return send(res, { code, type: JSON_TYPE, body: json({ code, message }) }, head);
    send(res, { code, type: HTML, body: notFoundPage(code, message) }, head);
  }

  /** The namespaces the request may see of those given, or a 401. */
  private async visible(req: IncomingMessage, namespaces: string[]): Promise<Set<string>> {
    const visible = await this.options.access.visible(req.headers.authorization, namespaces);
    if (!visible)
      throw new HttpError(401, 'Unauthorized: a valid bearer token is needed (Authorization: Bearer TOKEN)');
    return visible;
  }

  private async summaries(req: IncomingMessage): Promise<PolicySummary[]> {
    const all = await this.options.source.summaries();
    const visible = await this.visible(req, [...new Set(all.map((s) => s.namespace))]);
    return all.filter((s) => visible.has(s.namespace));
  }

  private async route(req: IncomingMessage, res: ServerResponse, head: boolean): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://dashboard').pathname;
    const asset = ASSETS[path];
    if (asset) {
      await this.visible(req, []);
      return send(res, { code: 200, type: asset.type, body: asset.body }, head);
    }
    if (path === '/' || path === '/api/v1/policies') {
      const items = await this.summaries(req);
      const now = this.options.clock.now();
      if (path === '/') return send(res, { code: 200, type: HTML, body: overviewPage(items, now) }, head);
      return send(res, { code: 200, type: JSON_TYPE, body: json({ kind: LIST_KIND, version: 1, items }) }, head);
    }
    if (path === '/api/v1/events') return this.events(req, res);
    const policy = policyRoute(path);
    if (!policy) throw new HttpError(404, `no page at ${path}`);
    // A namespace the request may not see is answered as if the policy did not exist.
    const visible = await this.visible(req, [policy.namespace]);
    if (!visible.has(policy.namespace))
      throw new PolicyNotFoundError(`rolloutpolicy "${policy.name}" not found in namespace "${policy.namespace}"`);
    const detail = await this.options.source.detail(policy.namespace, policy.name);
    if (!policy.page) return send(res, { code: 200, type: JSON_TYPE, body: json(detail) }, head);
    send(res, { code: 200, type: HTML, body: policyPage(detail, this.options.clock.now()) }, head);
  }

  /** Server-sent events: each change of a policy the request may see, as its summary (`event: policy`). */
  private async events(req: IncomingMessage, res: ServerResponse): Promise<void> {
    await this.visible(req, []);
    res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'text/event-stream', Connection: 'keep-alive' });
    res.write('retry: 2000\n\n');
    const unsubscribe = this.options.source.onChange((summary, deleted) => {
      void this.visible(req, [summary.namespace])
        .then((visible) => {
          if (visible.has(summary.namespace))
            res.write(`event: ${deleted ? 'deleted' : 'policy'}\ndata: ${JSON.stringify(summary)}\n\n`);
        })
        .catch(() => end());
    });
    const end = (): void => {
      unsubscribe();
      this.streams.delete(end);
      res.end();
    };
    this.streams.add(end);
    req.once('close', end);
  }
}

/** Starts the dashboard; its URL says where (the port the OS chose when `port` is 0). */
export function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  return new DashboardServer(options).listen();
}
