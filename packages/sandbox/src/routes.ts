/** The request paths of the API server, parsed. */

export type Route =
  | { kind: 'version' }
  | { kind: 'health' }
  | { kind: 'legacy-root' }
  | { kind: 'groups' }
  | { kind: 'group'; group: string }
  | { kind: 'group-version'; group: string; version: string }
  | {
      kind: 'resource';
      group: string;
      version: string;
      resource: string;
      namespace?: string;
      name?: string;
      sub?: string;
    }
  | { kind: 'unknown' };

function resourceRoute(group: string, version: string, rest: string[]): Route {
  if (rest.length === 0) return { kind: 'group-version', group, version };
  const base = { kind: 'resource' as const, group, version };
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    if (group === '' && rest.length === 3 && (rest[2] === 'status' || rest[2] === 'finalize')) {
      return { ...base, resource: 'namespaces', name: rest[1], sub: rest[2] };
    }
    if (rest.length > 5) return { kind: 'unknown' };
    return { ...base, namespace: rest[1], resource: rest[2] ?? '', name: rest[3], sub: rest[4] };
  }
  if (rest.length > 3) return { kind: 'unknown' };
  return { ...base, resource: rest[0] ?? '', name: rest[1], sub: rest[2] };
}

function decode(part: string): string | undefined {
  try {
    return decodeURIComponent(part);
  } catch {
    return undefined;
  }
}

export function parseRoute(pathname: string): Route {
  const decoded = pathname
    .split('/')
    .filter((p) => p !== '')
    .map(decode);
  if (decoded.some((p) => p === undefined)) return { kind: 'unknown' };
  const parts = decoded as string[];
  if (pathname === '/version' || pathname === '/version/') return { kind: 'version' };
  if (['healthz', 'livez', 'readyz'].includes(parts[0] ?? '') && parts.length <= 2) return { kind: 'health' };
  if (parts[0] === 'api') return legacyRoute(parts);
  if (parts[0] === 'apis') return groupRoute(parts);
  return { kind: 'unknown' };
}

function legacyRoute(parts: string[]): Route {
  if (parts.length === 1) return { kind: 'legacy-root' };
  return parts[1] === 'v1' ? resourceRoute('', 'v1', parts.slice(2)) : { kind: 'unknown' };
}

function groupRoute(parts: string[]): Route {
  if (parts.length === 1) return { kind: 'groups' };
  if (parts.length === 2) return { kind: 'group', group: parts[1] ?? '' };
  return resourceRoute(parts[1] ?? '', parts[2] ?? '', parts.slice(3));
}

/** The verb RBAC and audit use for a request on a resource route. */
export function verbOf(method: string, route: Extract<Route, { kind: 'resource' }>, watch: boolean): string {
  switch (method) {
    case 'GET':
    case 'HEAD':
      if (route.name) return 'get';
      return watch ? 'watch' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return route.name ? 'delete' : 'deletecollection';
    default:
      return method.toLowerCase();
  }
}
