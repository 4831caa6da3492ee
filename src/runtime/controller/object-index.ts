import type { KubernetesObject } from '@kubernetes/client-node';

const objectId = (o: KubernetesObject): string => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

/**
 * Objects bucketed by keys computed from each object (label pairs, involved object), kept current by
 * an informer's add/update/delete callbacks, so that a lookup reads one bucket instead of scanning.
 */
export class ObjectIndex<T extends KubernetesObject> {
  private readonly objects = new Map<string, { object: T; keys: string[] }>();
  private readonly buckets = new Map<string, Set<string>>();

  constructor(private readonly keysOf: (object: T) => string[]) {}

  upsert(object: T): void {
    this.remove(object);
    const keys = this.keysOf(object);
    const id = objectId(object);
    this.objects.set(id, { object, keys });
    for (const key of keys) {
      let bucket = this.buckets.get(key);
      if (!bucket) this.buckets.set(key, (bucket = new Set()));
      bucket.add(id);
    }
  }

  remove(object: T): void {
    const id = objectId(object);
    const entry = this.objects.get(id);
    if (!entry) return;
    this.objects.delete(id);
    for (const key of entry.keys) {
      const bucket = this.buckets.get(key);
      bucket?.delete(id);
      if (bucket?.size === 0) this.buckets.delete(key);
    }
  }

  /** The objects in the smallest of these buckets that `accept` keeps (no key: none). */
  lookup(keys: string[], accept: (object: T) => boolean = () => true): T[] {
    let smallest: Set<string> | undefined;
    for (const key of keys) {
      const bucket = this.buckets.get(key);
      if (!bucket) return [];
      if (!smallest || bucket.size < smallest.size) smallest = bucket;
    }
    const out: T[] = [];
    for (const id of smallest ?? []) {
      const object = this.objects.get(id)?.object;
      if (object && accept(object)) out.push(object);
    }
    return out;
  }

  get size(): number {
    return this.objects.size;
  }
}

/** Bucket keys of a labelled object: its namespace, and each `namespace` + `key=value` label pair. */
export function labelKeys(object: KubernetesObject): string[] {
  const namespace = object.metadata?.namespace ?? '';
  const labels = object.metadata?.labels ?? {};
  return [`${namespace}\t`, ...Object.entries(labels).map(([k, v]) => `${namespace}\t${k}=${v}`)];
}

/** The keys to look up for a selector: the namespace alone, or its label pairs. */
export function selectorKeys(namespace: string, selector: Record<string, string>): string[] {
  const pairs = Object.entries(selector).map(([k, v]) => `${namespace}\t${k}=${v}`);
  return pairs.length > 0 ? pairs : [`${namespace}\t`];
}

/** `{a: 'b', c: 'd'}` as the label selector the API server takes: `a=b,c=d`. */
export const labelSelectorOf = (selector: Record<string, string>): string =>
  Object.entries(selector)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');

export function matchesSelector(object: KubernetesObject, selector: Record<string, string>): boolean {
  const labels = object.metadata?.labels ?? {};
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}
