import { createHash } from 'node:crypto';
import type { Registry, ResourceType } from './registry.js';

/**
 * A minimal OpenAPI v3 (/openapi/v3): per group-version, the paths of each resource with their
 * operations, `x-kubernetes-group-version-kind` and the `fieldValidation` query parameter. This is
 * what kubectl reads to decide that the server validates fields itself (it then sends
 * fieldValidation=Strict instead of validating client-side). Schemas of CRDs are included.
 */

function gvPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

const QUERY = (name: string): Record<string, unknown> => ({
  name,
  in: 'query',
  schema: { type: 'string', uniqueItems: true },
});
const PATCH_TYPES = ['application/json-patch+json', 'application/merge-patch+json'];

function operation(t: ResourceType, version: string, action: string, params: string[]): Record<string, unknown> {
  return {
    operationId: `${action}${t.kind}`,
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': { group: t.group, version, kind: t.kind },
    parameters: params.map(QUERY),
    responses: {
      '200': {
        description: 'OK',
        content: { 'application/json': { schema: { $ref: `#/components/schemas/${schemaName(t, version)}` } } },
      },
    },
  };
}

function schemaName(t: ResourceType, version: string): string {
  return `${t.group || 'core'}.${version}.${t.kind}`;
}

function resourcePaths(t: ResourceType, version: string): Record<string, unknown> {
  const base = `/${gvPath(t.group, version)}${t.namespaced ? '/namespaces/{namespace}' : ''}/${t.resource}`;
  const write = ['dryRun', 'fieldManager', 'fieldValidation'];
  const patch = {
    ...operation(t, version, 'patch', [...write, 'force']),
    requestBody: { content: Object.fromEntries(PATCH_TYPES.map((c) => [c, { schema: { type: 'object' } }])) },
  };
  const paths: Record<string, unknown> = {
    [base]: {
      get: operation(t, version, 'list', ['labelSelector', 'fieldSelector', 'watch', 'resourceVersion']),
      post: operation(t, version, 'post', write),
    },
    [`${base}/{name}`]: {
      get: operation(t, version, 'get', []),
      put: operation(t, version, 'put', write),
      patch,
      delete: operation(t, version, 'delete', ['dryRun', 'propagationPolicy']),
    },
  };
  if (t.status)
    paths[`${base}/{name}/status`] = {
      get: operation(t, version, 'get', []),
      put: operation(t, version, 'put', write),
    };
  return paths;
}

export function openApiRoot(registry: Registry): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (const [group, versions] of registry.groups()) {
    for (const version of versions) {
      const path = gvPath(group, version);
      const doc = openApiGroupVersion(registry, group, version);
      if (!doc) continue;
      const hash = createHash('sha256').update(JSON.stringify(doc)).digest('hex').slice(0, 16).toUpperCase();
      paths[path] = { serverRelativeURL: `/openapi/v3/${path}?hash=${hash}` };
    }
  }
  return { paths };
}

export function openApiGroupVersion(
  registry: Registry,
  group: string,
  version: string,
): Record<string, unknown> | undefined {
  const types = registry.inGroupVersion(group, version).filter((t) => !t.virtual);
  if (types.length === 0) return undefined;
  const paths: Record<string, unknown> = {};
  const schemas: Record<string, unknown> = {};
  for (const t of types) {
    Object.assign(paths, resourcePaths(t, version));
    const schema = t.schemas.get(version) ?? { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
    schemas[schemaName(t, version)] = {
      ...schema,
      'x-kubernetes-group-version-kind': [{ group: t.group, version, kind: t.kind }],
    };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: 'v1.32.0' }, paths, components: { schemas } };
}

/** `/openapi/v3/PATH` → the group-version of that path, if it is one. */
export function parseOpenApiPath(pathname: string): { group: string; version: string } | undefined {
  const parts = pathname
    .replace(/^\/openapi\/v3\/?/, '')
    .split('/')
    .filter((p) => p !== '');
  if (parts[0] === 'api' && parts.length === 2) return { group: '', version: parts[1] ?? '' };
  if (parts[0] === 'apis' && parts.length === 3) return { group: parts[1] ?? '', version: parts[2] ?? '' };
  return undefined;
}
