import type { ServerResponse } from 'node:http';
import { accessReview, type Authorize } from './access-review.js';
import { tokenReview, type Authenticate } from './token-review.js';
import type { Api, Caller, Subresource, WriteOptions } from './api.js';
import type { DeleteOptions } from './deletion.js';
import { patchTypeOf } from './patch.js';
import { SERVER_SIDE_APPLY_REFUSED } from './patching.js';
import type { ResourceType } from './registry.js';
import type { Route } from './routes.js';
import { patchScale, toScale, updateScale } from './scale.js';
import { ApiError, badRequest, failure, methodNotAllowed, success } from './status.js';
import { isRecord, type KObject } from './types.js';
import { toTable, wantsTable } from './table.js';
import type { WatchHub } from './watch.js';

export type ResourceRoute = Extract<Route, { kind: 'resource' }>;

export interface Exchange {
  method: string;
  route: ResourceRoute;
  type: ResourceType;
  query: URLSearchParams;
  body: unknown;
  contentType: string | undefined;
  accept?: string;
  caller: Caller;
  res: ServerResponse;
  /** Decides access reviews (RBAC when enforced). */
  authorize?: Authorize;
  /** Answers token reviews (the server's token users). */
  authenticate?: Authenticate;
}

export type Reply = { code: number; body: unknown; warnings?: string[] } | 'streamed';

const NOT_FOUND_PAGE = (path: string): ApiError =>
  new ApiError(failure(404, 'NotFound', `the server could not find the requested resource (${path})`));

/** What a real cluster serves through the kubelet, from running containers: the sandbox runs none. */
const CONTAINER_SUBRESOURCES = new Set(['exec', 'attach', 'portforward', 'log', 'proxy']);

function isCore(type: ResourceType, resource: string): boolean {
  return type.group === '' && type.resource === resource;
}

function hasSubresource(type: ResourceType, sub: string): boolean {
  if (sub === 'status') return type.status;
  if (CONTAINER_SUBRESOURCES.has(sub)) return isCore(type, 'pods');
  if (sub === 'scale') return type.scale !== undefined;
  return sub === 'finalize' && isCore(type, 'namespaces');
}

/** The resource type a route names, checking scope: 404 for unknown resources and misplaced paths. */
export function resolveType(api: Api, route: ResourceRoute): ResourceType {
  const type = api.registry.lookup(route.group, route.version, route.resource);
  if (!type) throw NOT_FOUND_PAGE(route.resource);
  if (route.namespace !== undefined && !type.namespaced) throw NOT_FOUND_PAGE(route.resource);
  if (route.sub !== undefined && !hasSubresource(type, route.sub))
    throw NOT_FOUND_PAGE(`${route.resource}/${route.sub}`);
  return type;
}

/**
 * A boolean query parameter as the API server converts it (`runtime.Convert_Slice_string_To_bool`): absent is
 * false, `false` and `0` (any case) are false, and any other value — `True`, `1`, `yes`, even empty — is true.
 */
export function flag(query: URLSearchParams, name: string): boolean {
  const v = query.get(name);
  if (v === null) return false;
  const lower = v.toLowerCase();
  return lower !== 'false' && lower !== '0';
}

/** A non-negative integer query parameter, or undefined; 400 for anything else. */
function count(query: URLSearchParams, name: string): number | undefined {
  const text = query.get(name);
  if (text === null || text === '') return undefined;
  if (!/^[0-9]+$/.test(text)) throw badRequest(`${name}: Invalid value: "${text}": must be a non-negative integer`);
  return Number(text);
}

function writeOptions(query: URLSearchParams): WriteOptions {
  const dryRun = query.getAll('dryRun');
  if (dryRun.some((d) => d !== 'All'))
    throw badRequest(`dryRun: Unsupported value: "${dryRun.join(',')}": supported values: "All"`);
  return { dryRun: dryRun.length > 0, fieldValidation: query.get('fieldValidation') ?? 'Warn', warnings: [] };
}

function propagationPolicy(policy: unknown): string | undefined {
  if (policy === undefined || policy === null) return undefined;
  if (typeof policy !== 'string' || !['Orphan', 'Background', 'Foreground'].includes(policy))
    throw badRequest(`propagationPolicy: Unsupported value: ${JSON.stringify(policy)}`);
  return policy;
}

function gracePeriod(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  if ((typeof value !== 'number' && typeof value !== 'string') || !/^[0-9]+$/.test(String(value)))
    throw badRequest(`gracePeriodSeconds: Invalid value: ${JSON.stringify(value)}: must be a non-negative integer`);
  return Number(value);
}

function deleteOptions(query: URLSearchParams, body: unknown): DeleteOptions {
  const options: DeleteOptions = { dryRun: query.getAll('dryRun').includes('All') };
  const fromBody = isRecord(body) ? body : {};
  options.propagationPolicy = propagationPolicy(query.get('propagationPolicy') ?? fromBody.propagationPolicy);
  options.gracePeriodSeconds = gracePeriod(query.get('gracePeriodSeconds') ?? fromBody.gracePeriodSeconds);
  if (Array.isArray(fromBody.dryRun) && fromBody.dryRun.includes('All')) options.dryRun = true;
  if (isRecord(fromBody.preconditions)) options.preconditions = fromBody.preconditions;
  if (fromBody.orphanDependents === true && !options.propagationPolicy) options.propagationPolicy = 'Orphan';
  return options;
}

function subOf(route: ResourceRoute): Subresource {
  return route.sub === 'status' ? 'status' : undefined;
}

function serveWatch(hub: WatchHub, ex: Exchange): Reply {
  const { route, type, query } = ex;
  const timeout = count(query, 'timeoutSeconds');
  hub.serve(ex.res, {
    type,
    version: route.version,
    namespace: route.namespace,
    labelSelector: query.get('labelSelector') ?? undefined,
    fieldSelector: query.get('fieldSelector') ?? undefined,
    resourceVersion: query.get('resourceVersion') ?? undefined,
    allowWatchBookmarks: flag(query, 'allowWatchBookmarks'),
    sendInitialEvents: flag(query, 'sendInitialEvents'),
    timeoutSeconds: timeout,
    present: wantsTable(ex.accept) ? (o) => toTable(type, route.version, o, query.get('includeObject')) : undefined,
  });
  return 'streamed';
}

function getOrWatch(api: Api, hub: WatchHub, ex: Exchange): Reply {
  const { route, type, query } = ex;
  if (route.name) {
    const object = api.get(type, route.namespace, route.name, route.version);
    return { code: 200, body: route.sub === 'scale' ? toScale(type, object) : object };
  }
  if (flag(query, 'watch')) return serveWatch(hub, ex);
  return {
    code: 200,
    body: api.list(
      type,
      route.namespace,
      {
        labelSelector: query.get('labelSelector') ?? undefined,
        fieldSelector: query.get('fieldSelector') ?? undefined,
        limit: count(query, 'limit'),
        continue: query.get('continue') ?? undefined,
      },
      route.version,
    ),
  };
}

function create(api: Api, ex: Exchange): Reply {
  const { route, type } = ex;
  if (route.name) throw methodNotAllowed('the server does not allow this method on the requested resource');
  if (type.virtual) return { code: 201, body: review(api, ex) };
  const opts = writeOptions(ex.query);
  return {
    code: 201,
    body: api.create({ type, namespace: route.namespace, version: route.version }, ex.body, ex.caller, opts),
    warnings: opts.warnings,
  };
}

function update(api: Api, ex: Exchange): Reply {
  const { route, type } = ex;
  if (!route.name) throw methodNotAllowed('the server does not allow this method on the requested resource');
  const opts = writeOptions(ex.query);
  const target = { type, namespace: route.namespace, name: route.name };
  if (route.sub === 'scale') return { code: 200, body: updateScale(api, target, ex.body, { caller: ex.caller, opts }) };
  const body = api.update({ ...target, version: route.version, sub: subOf(route) }, ex.body, ex.caller, opts);
  return { code: 200, body, warnings: opts.warnings };
}

function patch(api: Api, ex: Exchange): Reply {
  const { route, type } = ex;
  if (!route.name) throw methodNotAllowed('the server does not allow this method on the requested resource');
  const patchType = patchTypeOf(ex.contentType);
  if (!patchType)
    throw new ApiError(
      failure(
        415,
        'UnsupportedMediaType',
        `the body of the request was in an unknown format - accepted media types include: ` +
          `application/json-patch+json, ` +
          `application/merge-patch+json${type.builtin ? ', application/strategic-merge-patch+json' : ''}`,
      ),
    );
  if (patchType === 'apply') throw new ApiError(failure(415, 'UnsupportedMediaType', SERVER_SIDE_APPLY_REFUSED));
  const opts = writeOptions(ex.query);
  const target = { type, namespace: route.namespace, name: route.name };
  if (route.sub === 'scale')
    return {
      code: 200,
      body: patchScale(api, target, { type: patchType, body: ex.body }, { caller: ex.caller, opts }),
    };
  const body = api.patch(
    { ...target, version: route.version, sub: subOf(route) },
    { type: patchType, body: ex.body },
    ex.caller,
    opts,
  );
  return { code: 200, body, warnings: opts.warnings };
}

function remove(api: Api, ex: Exchange): Reply {
  const { route, type } = ex;
  if (route.sub) throw methodNotAllowed('the server does not allow this method on the requested resource');
  const opts = deleteOptions(ex.query, ex.body);
  if (!route.name) {
    const list = api.list(
      type,
      route.namespace,
      {
        labelSelector: ex.query.get('labelSelector') ?? undefined,
        fieldSelector: ex.query.get('fieldSelector') ?? undefined,
      },
      route.version,
    );
    for (const item of list.items as KObject[])
      api.delete({ type, namespace: item.metadata.namespace, name: item.metadata.name ?? '' }, opts);
    return { code: 200, body: list };
  }
  const { object, removed } = api.delete({ type, namespace: route.namespace, name: route.name }, opts);
  const returnsObject = !type.builtin || type.resource === 'pods' || !removed;
  return {
    code: 200,
    body: returnsObject
      ? object
      : success({ name: route.name, group: type.group, kind: type.resource, uid: object.metadata.uid }),
  };
}

/** Server-side printing for `kubectl get`: the reply as a Table when the client asks for one. */
function asTable(ex: Exchange, reply: Reply): Reply {
  if (reply === 'streamed' || ex.route.sub || !wantsTable(ex.accept)) return reply;
  return { ...reply, body: toTable(ex.type, ex.route.version, reply.body as KObject, ex.query.get('includeObject')) };
}

function review(api: Api, ex: Exchange): KObject {
  switch (ex.type.kind) {
    case 'SelfSubjectAccessReview':
    case 'SubjectAccessReview':
      return accessReview(ex.type.kind, ex.body, ex.caller, ex.authorize ?? (() => true));
    case 'TokenReview':
      return tokenReview(ex.body, ex.authenticate ?? (() => undefined));
    default:
      return selfSubjectReview(ex.caller, api.now());
  }
}

function selfSubjectReview(caller: Caller, now: string): KObject {
  return {
    kind: 'SelfSubjectReview',
    apiVersion: 'authentication.k8s.io/v1',
    metadata: { creationTimestamp: now },
    status: {
      userInfo: {
        username: caller.user.username,
        groups: caller.user.groups,
        ...(caller.user.uid ? { uid: caller.user.uid } : {}),
      },
    },
  };
}

/** pods/exec, log, attach, portforward, proxy: a clear refusal (after the pod's own 404), never a hang. */
function refuseContainerAccess(api: Api, ex: Exchange): never {
  const { route, type } = ex;
  api.get(type, route.namespace, route.name ?? '', route.version);
  throw badRequest(
    `pods "${route.name ?? ''}": the sandbox simulates pods and runs no containers, so pods/${route.sub ?? ''} ` +
      `(exec, attach, port-forward, logs, proxy) is not available`,
  );
}

/** One request on a resource, answered through the Api (or streamed, for watches). */
export function handleResource(api: Api, hub: WatchHub, ex: Exchange): Reply {
  if (ex.route.sub && CONTAINER_SUBRESOURCES.has(ex.route.sub)) refuseContainerAccess(api, ex);
  switch (ex.method) {
    case 'GET':
    case 'HEAD':
      return asTable(ex, getOrWatch(api, hub, ex));
    case 'POST':
      return create(api, ex);
    case 'PUT':
      return update(api, ex);
    case 'PATCH':
      return patch(api, ex);
    case 'DELETE':
      return remove(api, ex);
    default:
      throw methodNotAllowed(`the server does not allow this method on the requested resource`);
  }
}
