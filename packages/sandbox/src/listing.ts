import { atVersion, decodeContinue, encodeContinue, sortKey } from './objects.js';
import { apiVersionOf, storageKey, type ResourceType } from './registry.js';
import { parseFieldSelector, parseLabelSelector } from './selectors.js';
import type { Store } from './store.js';
import type { KObject } from './types.js';

export interface ListQuery {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
}

function byKey(a: KObject, b: KObject): number {
  const ka = sortKey(a);
  const kb = sortKey(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/** A list as the API server answers it: filtered by selectors, ordered by namespace/name, paged by limit/continue. */
export function listObjects(
  store: Store,
  at: { type: ResourceType; namespace?: string; version: string },
  query: ListQuery,
): KObject {
  const { type, version } = at;
  const labels = parseLabelSelector(query.labelSelector);
  const fields = parseFieldSelector(query.fieldSelector, type.kind, type.group);
  const rv = store.resourceVersion;
  let items = store
    .list(storageKey(type), at.namespace)
    .map((o) => atVersion(o, type, version))
    .filter((o) => labels(o) && fields(o))
    .sort(byKey);
  if (query.continue) {
    const start = decodeContinue(query.continue).start;
    items = items.filter((o) => sortKey(o) > start);
  }
  const metadata: Record<string, unknown> = { resourceVersion: String(rv) };
  if (query.limit && query.limit > 0 && items.length > query.limit) {
    metadata.remainingItemCount = items.length - query.limit;
    items = items.slice(0, query.limit);
    metadata.continue = encodeContinue(rv, sortKey(items[items.length - 1] as KObject));
  }
  return { apiVersion: apiVersionOf(type.group, version), kind: type.listKind, metadata, items };
}
