import { apiVersionOf, verbsOf, type Registry, type ResourceType } from './registry.js';

/** Discovery documents: /version, /api, /apis, group and group-version lists, aggregated v2. */

export const SERVER_VERSION = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0+kubestead-sandbox',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2026-01-01T00:00:00Z',
  goVersion: 'go1.23.0',
  compiler: 'gc',
  platform: 'linux/amd64',
};

const SUB_VERBS = ['get', 'patch', 'update'];

function resourceEntries(t: ResourceType): Array<Record<string, unknown>> {
  const main: Record<string, unknown> = {
    name: t.resource,
    singularName: t.singular,
    namespaced: t.namespaced,
    kind: t.kind,
    verbs: verbsOf(t),
  };
  if (t.shortNames.length) main.shortNames = t.shortNames;
  if (t.categories.length) main.categories = t.categories;
  const out = [main];
  if (t.status)
    out.push({
      name: `${t.resource}/status`,
      singularName: '',
      namespaced: t.namespaced,
      kind: t.kind,
      verbs: SUB_VERBS,
    });
  if (t.scale)
    out.push({
      name: `${t.resource}/scale`,
      singularName: '',
      namespaced: t.namespaced,
      group: 'autoscaling',
      version: 'v1',
      kind: 'Scale',
      verbs: SUB_VERBS,
    });
  return out;
}

export function resourceList(registry: Registry, group: string, version: string): Record<string, unknown> | undefined {
  const types = registry.inGroupVersion(group, version);
  if (types.length === 0) return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: apiVersionOf(group, version),
    resources: types.flatMap(resourceEntries),
  };
}

function groupEntry(name: string, versions: string[]): Record<string, unknown> {
  const list = versions.map((version) => ({ groupVersion: `${name}/${version}`, version }));
  return { name, versions: list, preferredVersion: list[0] };
}

export function apiVersions(host: string): Record<string, unknown> {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: host }],
  };
}

export function groupList(registry: Registry): Record<string, unknown> {
  const groups = [...registry.groups()].filter(([g]) => g !== '').map(([g, versions]) => groupEntry(g, versions));
  return { kind: 'APIGroupList', apiVersion: 'v1', groups };
}

export function group(registry: Registry, name: string): Record<string, unknown> | undefined {
  const versions = registry.groups().get(name);
  return versions && name !== '' ? { kind: 'APIGroup', apiVersion: 'v1', ...groupEntry(name, versions) } : undefined;
}

function discoveryResource(t: ResourceType, version: string): Record<string, unknown> {
  const subresources: Array<Record<string, unknown>> = [];
  if (t.status)
    subresources.push({
      subresource: 'status',
      responseKind: { group: t.group, version, kind: t.kind },
      verbs: SUB_VERBS,
    });
  if (t.scale)
    subresources.push({
      subresource: 'scale',
      responseKind: { group: 'autoscaling', version: 'v1', kind: 'Scale' },
      verbs: SUB_VERBS,
    });
  const out: Record<string, unknown> = {
    resource: t.resource,
    responseKind: { group: t.group, version, kind: t.kind },
    scope: t.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: t.singular,
    verbs: verbsOf(t),
  };
  if (t.shortNames.length) out.shortNames = t.shortNames;
  if (t.categories.length) out.categories = t.categories;
  if (subresources.length) out.subresources = subresources;
  return out;
}

/** apidiscovery.k8s.io APIGroupDiscoveryList of the core group (/api) or of all others (/apis). */
export function aggregated(registry: Registry, core: boolean, discoveryVersion: string): Record<string, unknown> {
  const items = [...registry.groups()]
    .filter(([g]) => (g === '') === core)
    .map(([g, versions]) => ({
      metadata: { name: g, creationTimestamp: null },
      versions: versions.map((version) => ({
        version,
        resources: registry.inGroupVersion(g, version).map((t) => discoveryResource(t, version)),
        freshness: 'Current',
      })),
    }));
  return { kind: 'APIGroupDiscoveryList', apiVersion: `apidiscovery.k8s.io/${discoveryVersion}`, metadata: {}, items };
}

/** The aggregated-discovery version the Accept header asks for (v2 or v2beta1), if any. */
export function wantsAggregated(accept: string | undefined): string | undefined {
  for (const part of (accept ?? '').split(',')) {
    if (!part.includes('as=APIGroupDiscoveryList') || !part.includes('g=apidiscovery.k8s.io')) continue;
    const version = /;\s*v=([a-z0-9]+)/.exec(part)?.[1];
    if (version === 'v2' || version === 'v2beta1') return version;
  }
  return undefined;
}
