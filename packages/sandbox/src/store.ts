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

/** An object with the resource it is stored under. */
export interface Stored {
  gr: GroupResource;
  object: KObject;
}

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
  /** Owner UID → the objects that reference it (by resource and key): the controllers' lookups stay O(dependents). */
  private readonly byOwner = new Map<string, Map<string, Stored>>();
  /** UID → where the object is stored. */
  private readonly byUid = new Map<string, { gr: GroupResource; key: string }>();

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

  /** The objects whose ownerReferences name `uid`, in any resource. */
  dependentsOf(uid: string | undefined): Stored[] {
    return uid === undefined ? [] : [...(this.byOwner.get(uid)?.values() ?? [])];
  }

  /** The object of this UID, if one is stored. */
  byUID(uid: string | undefined): Stored | undefined {
    const at = uid === undefined ? undefined : this.byUid.get(uid);
    const object = at && this.objects.get(at.gr)?.get(at.key);
    return at && object ? { gr: at.gr, object } : undefined;
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
    const key = objectKey(object.metadata.namespace, object.metadata.name ?? '');
    const before = map.get(key);
    // an owner kept keeps its dependents' order (a Map's set keeps an existing key's place), as list does
    if (before) this.unindex(gr, key, before, object);
    map.set(key, object);
    this.index(gr, key, object);
    this.record({ type, rv: Number(object.metadata.resourceVersion), gr, object, prev });
  }

  /** Removes an object; `last` is its final state (with the deletion's resourceVersion). */
  remove(gr: GroupResource, last: KObject, prev: KObject): void {
    const key = objectKey(last.metadata.namespace, last.metadata.name ?? '');
    const before = this.objects.get(gr)?.get(key);
    if (before) this.unindex(gr, key, before);
    this.objects.get(gr)?.delete(key);
    this.record({ type: 'DELETED', rv: Number(last.metadata.resourceVersion), gr, object: last, prev });
  }

  /** Drops every object of a resource (its CRD went away), without events. */
  dropResource(gr: GroupResource): void {
    for (const [key, object] of this.objects.get(gr) ?? []) this.unindex(gr, key, object);
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
      const key = objectKey(object.metadata.namespace, object.metadata.name ?? '');
      map.set(key, object);
      this.index(gr, key, object);
    }
    this.rv = Math.max(this.rv, rv);
    this.compactedThrough = this.rv;
  }

  private index(gr: GroupResource, key: string, object: KObject): void {
    if (object.metadata.uid) this.byUid.set(object.metadata.uid, { gr, key });
    for (const ref of object.metadata.ownerReferences ?? []) {
      let dependents = this.byOwner.get(ref.uid);
      if (!dependents) this.byOwner.set(ref.uid, (dependents = new Map<string, Stored>()));
      dependents.set(`${gr} ${key}`, { gr, object });
    }
  }

  /** Drops `object`'s index entries, but those `next` (its new state) keeps. */
  private unindex(gr: GroupResource, key: string, object: KObject, next?: KObject): void {
    if (object.metadata.uid && object.metadata.uid !== next?.metadata.uid) this.byUid.delete(object.metadata.uid);
    const kept = new Set((next?.metadata.ownerReferences ?? []).map((r) => r.uid));
    for (const ref of object.metadata.ownerReferences ?? []) {
      if (kept.has(ref.uid)) continue;
      const dependents = this.byOwner.get(ref.uid);
      dependents?.delete(`${gr} ${key}`);
      if (dependents?.size === 0) this.byOwner.delete(ref.uid);
    }
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
