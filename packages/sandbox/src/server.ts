import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { Authorize } from './access-review.js';
import type { Api, Caller } from './api.js';
import type { TokenAuthenticator, UserInfo } from './auth.js';
import { parseBody, readRaw } from './body.js';
import type { ServingCerts } from './certs.js';
import {
  aggregated,
  apiVersions,
  group,
  groupList,
  resourceList,
  SERVER_VERSION,
  wantsAggregated,
} from './discovery.js';
import { openApiGroupVersion, openApiRoot, parseOpenApiPath } from './openapi.js';
import { faultStatus, type FaultRule, type Faults } from './faults.js';
import { flag, handleResource, resolveType, type Reply } from './handlers.js';
import type { RbacAuthorizer } from './rbac.js';
import type { RequestLog } from './request-log.js';
import { parseRoute, verbOf, type Route } from './routes.js';
import { ApiError, badRequest, failure, toApiError, type StatusBody } from './status.js';
import type { WatchHub } from './watch.js';

export interface ServerDeps {
  api: Api;
  hub: WatchHub;
  faults: Faults;
  auth: TokenAuthenticator;
  /** Set in RBAC-enforcing mode: non-admin users need a Role/ClusterRole binding. */
  rbac?: RbacAuthorizer;
  onError?: (error: unknown) => void;
  /** Where answered requests are recorded. */
  log?: RequestLog;
}

/** Requests held or answered by faults. */
interface FaultState {
  hanging: Set<ServerResponse>;
  faulted: WeakSet<ServerResponse>;
}

function send(res: ServerResponse, code: number, body: unknown, headers: Record<string, string | string[]> = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  // the API server's JSON encoder ends every body with a newline (clients that compare the text see it)
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(code, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-cache, private',
    ...headers,
  });
  res.end(text);
}

function sendStatus(res: ServerResponse, status: StatusBody): void {
  const retry = status.details?.retryAfterSeconds;
  send(res, status.code, status, retry !== undefined ? { 'Retry-After': String(retry) } : {});
}

/** The request target as a URL (origin-form; `//x` is a path, not a host). */
function requestUrl(target: string | undefined): URL {
  try {
    return new URL(`https://sandbox.local${target?.startsWith('/') ? target : `/${target ?? ''}`}`);
  } catch {
    throw badRequest(`invalid request target ${JSON.stringify(target)}`);
  }
}

function notFoundPage(): ApiError {
  return new ApiError(failure(404, 'NotFound', 'the server could not find the requested resource'));
}

function discovery(deps: ServerDeps, route: Route, req: IncomingMessage): [unknown, Record<string, string>] {
  const registry = deps.api.registry;
  const agg = wantsAggregated(req.headers.accept);
  const aggType = (v: string): Record<string, string> => ({
    'Content-Type': `application/json;g=apidiscovery.k8s.io;v=${v};as=APIGroupDiscoveryList`,
  });
  switch (route.kind) {
    case 'version':
      return [SERVER_VERSION, {}];
    case 'legacy-root':
      return agg ? [aggregated(registry, true, agg), aggType(agg)] : [apiVersions(req.headers.host ?? ''), {}];
    case 'groups':
      return agg ? [aggregated(registry, false, agg), aggType(agg)] : [groupList(registry), {}];
    case 'group':
      return [
        group(registry, route.group) ??
          (() => {
            throw notFoundPage();
          })(),
        {},
      ];
    case 'group-version':
      return [
        resourceList(registry, route.group, route.version) ??
          (() => {
            throw notFoundPage();
          })(),
        {},
      ];
    default:
      throw notFoundPage();
  }
}

function openApi(deps: ServerDeps, pathname: string): unknown {
  if (pathname === '/openapi/v3' || pathname === '/openapi/v3/') return openApiRoot(deps.api.registry);
  const gv = parseOpenApiPath(pathname);
  const doc = gv && openApiGroupVersion(deps.api.registry, gv.group, gv.version);
  if (!doc) throw notFoundPage();
  return doc;
}

/** Answers with an injected fault, if one matches the request; true when it did. */
function injectFault(deps: ServerDeps, req: IncomingMessage, res: ServerResponse, state: FaultState): boolean {
  const user = deps.auth.authenticate(req.headers.authorization)?.username;
  const fault = deps.faults.take(req.method ?? 'GET', req.url ?? '/', user);
  if (!fault) return false;
  state.faulted.add(res);
  if (fault.respond === 'hang') hang(res, fault, state.hanging);
  else sendStatus(res, faultStatus(fault));
  return true;
}

/** Holds a request without answering (a 'hang' fault) until the client gives up or the time passes. */
function hang(res: ServerResponse, rule: FaultRule, hanging: Set<ServerResponse>): void {
  hanging.add(res);
  const timer = setTimeout(() => res.destroy(), rule.hangMs ?? 120_000);
  res.on('close', () => {
    clearTimeout(timer);
    hanging.delete(res);
  });
}

async function serveResource(
  deps: ServerDeps,
  req: IncomingMessage,
  res: ServerResponse,
  ctx: { route: Extract<Route, { kind: 'resource' }>; url: URL; user: UserInfo },
): Promise<Reply> {
  const { route, url, user } = ctx;
  const type = resolveType(deps.api, route);
  const method = req.method ?? 'GET';
  if (deps.rbac) {
    const attrs = {
      verb: verbOf(method, route, flag(url.searchParams, 'watch')),
      group: type.group,
      resource: type.resource,
      subresource: route.sub,
      namespace: route.namespace,
      name: route.name,
    };
    if (!deps.rbac.allows(user, attrs)) throw deps.rbac.denial(user, attrs);
  }
  const raw = await readRaw(req);
  const caller: Caller = { user };
  // A GET's body is ignored; a review (SelfSubjectReview) is answered from the caller alone.
  const body =
    type.resource === 'selfsubjectreviews' || method === 'GET'
      ? undefined
      : parseBody(raw, req.headers['content-type']);
  const authorize: Authorize = (who, attrs) => deps.rbac?.allows(who, attrs) ?? true;
  const interleaved = deps.faults.takeInterleaved(method, req.url ?? '/');
  const reply = handleResource(deps.api, deps.hub, {
    method,
    route,
    type,
    query: url.searchParams,
    body,
    contentType: req.headers['content-type'],
    accept: req.headers.accept,
    caller,
    res,
    authorize,
    authenticate: (header) => deps.auth.authenticate(header),
  });
  if (reply !== 'streamed') await interleaved?.();
  return reply;
}

async function handle(deps: ServerDeps, req: IncomingMessage, res: ServerResponse, state: FaultState): Promise<void> {
  const url = requestUrl(req.url);
  if (injectFault(deps, req, res, state)) return;
  const user = deps.auth.authenticate(req.headers.authorization);
  if (!user) {
    sendStatus(res, failure(401, 'Unauthorized', 'Unauthorized'));
    return;
  }
  if (url.pathname === '/openapi/v3' || url.pathname.startsWith('/openapi/v3/')) {
    send(res, 200, openApi(deps, url.pathname));
    return;
  }
  const route = parseRoute(url.pathname);
  if (route.kind === 'health') {
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' }).end('ok');
    return;
  }
  if (route.kind !== 'resource') {
    const [body, headers] = discovery(deps, route, req);
    send(res, 200, body, headers);
    return;
  }
  const reply = await serveResource(deps, req, res, { route, url, user });
  if (reply === 'streamed') return;
  const warnings = (reply.warnings ?? []).map((w) => `299 - ${JSON.stringify(w)}`);
  send(res, reply.code, reply.body, warnings.length ? { Warning: warnings } : {});
}

/** Logs the request when its answer is done (or its connection closed, for hangs and watches). */
function record(deps: ServerDeps, req: IncomingMessage, res: ServerResponse, state: FaultState): void {
  const time = Date.now();
  const target = req.url ?? '/';
  const q = target.indexOf('?');
  res.once('close', () =>
    deps.log?.add({
      time,
      method: req.method ?? 'GET',
      path: q < 0 ? target : target.slice(0, q),
      query: q < 0 ? '' : target.slice(q),
      code: res.headersSent ? res.statusCode : 0,
      user: deps.auth.authenticate(req.headers.authorization)?.username,
      fault: state.faulted.has(res),
    }),
  );
}

export interface SandboxServer {
  server: Server;
  /** Destroys requests held by 'hang' faults. */
  releaseHanging: () => void;
}

/**
 * The HTTPS API server: faults, bearer-token auth, RBAC (optional), discovery, resources. Never throws out of a
 * request.
 */
export function createApiServer(certs: ServingCerts, deps: ServerDeps): SandboxServer {
  const state: FaultState = { hanging: new Set(), faulted: new WeakSet() };
  const hanging = state.hanging;
  const server = createServer({ cert: certs.cert, key: certs.key }, (req, res) => {
    if (deps.log) record(deps, req, res, state);
    handle(deps, req, res, state).catch((error: unknown) => {
      const apiError = toApiError(error);
      if (apiError.code >= 500) deps.onError?.(error);
      if (res.headersSent) res.destroy();
      else sendStatus(res, apiError.status);
    });
  });
  server.keepAliveTimeout = 30_000;
  return {
    server,
    releaseHanging: () => {
      for (const res of [...hanging]) res.destroy();
    },
  };
}
