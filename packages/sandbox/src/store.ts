import type { GroupResource } from './registry.js';
import type { KObject } from './types.js';

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** One change, as watches replay it. `prev` is the object before (for selector transitions). */
export interface StoreEvent {
  type: EventType;
  rv: number;
  gr: GroupResource;
  object: KObject;
  prev?: KObject;
}

export type StoreListener = (event: StoreEvent) => void;

function objectKey(namespace: string | undefined, name: string): string {
  return `${namespace ?? ''}/${name}`;
}

/**
 * Objects by group/resource and namespace/name, one monotonic resourceVersion, and a bounded
 * history of changes from which watches resume. Stored objects are never mutated: every write
 * stores a new object, so history entries and readers can share them.
 */
export class Store {
  private rv = 0;
  private readonly objects = new Map<GroupResource, Map<string, KObject>>();
  private history: StoreEvent[] = [];
  /** Watches from a resourceVersion below this are 410 Gone: their events were dropped. */
  private compactedThrough = 0;
  private readonly listeners = new Set<StoreListener>();

  constructor(private readonly historyLimit = 50_000) {}

  get resourceVersion(): number {
    return this.rv;
  }

  get oldestWatchable(): number {
    return this.compactedThrough;
  }

  nextResourceVersion(): number {
    this.rv += 1;
    return this.rv;
  }

  get(gr: GroupResource, namespace: string | undefined, name: string): KObject | undefined {
    return this.objects.get(gr)?.get(objectKey(namespace, name));
  }

  list(gr: GroupResource, namespace?: string): KObject[] {
    const all = [...(this.objects.get(gr)?.values() ?? [])];
    return namespace === undefined ? all : all.filter((o) => o.metadata.namespace === namespace);
  }

  count(gr: GroupResource): number {
    return this.objects.get(gr)?.size ?? 0;
  }

  /** Stores an object whose metadata.resourceVersion is already the new rv, and records the event. */
  put(gr: GroupResource, object: KObject, type: 'ADDED' | 'MODIFIED', prev?: KObject): void {
    let map = this.objects.get(gr);
    if (!map) {
      map = new Map();
      this.objects.set(gr, map);
    }
    map.set(objectKey(object.metadata.namespace, object.metadata.name ?? ''), object);
    this.record({ type, rv: Number(object.metadata.resourceVersion), gr, object, prev });
  }

  /** Removes an object; `last` is its final state (with the deletion's resourceVersion). */
  remove(gr: GroupResource, last: KObject, prev: KObject): void {
    this.objects.get(gr)?.delete(objectKey(last.metadata.namespace, last.metadata.name ?? ''));
    this.record({ type: 'DELETED', rv: Number(last.metadata.resourceVersion), gr, object: last, prev });
  }

  /** Drops every object of a resource (its CRD went away), without events. */
  dropResource(gr: GroupResource): void {
    this.objects.delete(gr);
  }

  /** Events with rv > from, of one resource; undefined when history no longer reaches back to `from`. */
  eventsSince(gr: GroupResource, from: number): StoreEvent[] | undefined {
    if (from < this.compactedThrough) return undefined;
    let lo = 0;
    let hi = this.history.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.history[mid]?.rv ?? 0) <= from) lo = mid + 1;
      else hi = mid;
    }
    return this.history.slice(lo).filter((e) => e.gr === gr);
  }

  /** Forgets all history: every watch from a resourceVersion before now gets 410 Gone. */
  compact(): void {
    this.history = [];
    this.compactedThrough = this.rv;
  }

  subscribe(listener: StoreListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Every object, for snapshots. */
  dump(): Array<{ gr: GroupResource; object: KObject }> {
    const out: Array<{ gr: GroupResource; object: KObject }> = [];
    for (const [gr, map] of this.objects) for (const object of map.values()) out.push({ gr, object });
    return out;
  }

  /** Loads a snapshot into an empty store. */
  load(entries: Array<{ gr: GroupResource; object: KObject }>, rv: number): void {
    for (const { gr, object } of entries) {
      let map = this.objects.get(gr);
      if (!map) this.objects.set(gr, (map = new Map<string, KObject>()));
      map.set(objectKey(object.metadata.namespace, object.metadata.name ?? ''), object);
    }
    this.rv = Math.max(this.rv, rv);
    this.compactedThrough = this.rv;
  }

  private record(event: StoreEvent): void {
    this.history.push(event);
    if (this.history.length > this.historyLimit) {
      const dropped = this.history.splice(0, Math.max(1, Math.floor(this.historyLimit / 10)));
      this.compactedThrough = dropped[dropped.length - 1]?.rv ?? this.compactedThrough;
    }
    for (const listener of this.listeners) listener(event);
  }
}
