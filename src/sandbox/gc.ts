import type { Api } from './api.js';
import { storageKey, type ResourceType } from './registry.js';
import type { StoreEvent } from './store.js';
import { isRecord, type KObject } from './types.js';

interface Entry {
  type: ResourceType;
  object: KObject;
}

/**
 * The garbage collector and namespace controller: background cascade to dependents whose owners
 * are gone, the `orphan` and `foregroundDeletion` finalizers, and the emptying of terminating
 * namespaces. Each pass looks at every object (so a failed step is simply done again by the next
 * pass); passes are batched on the next turn of the event loop, as a controller's queue would.
 */
export class GarbageCollector {
  private scheduled: NodeJS.Immediate | undefined;
  private retry: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly api: Api) {
    api.removalHooks.push(() => this.schedule());
    api.store.subscribe((event) => this.onEvent(event));
  }

  close(): void {
    this.closed = true;
    if (this.scheduled) clearImmediate(this.scheduled);
    if (this.retry) clearTimeout(this.retry);
  }

  private onEvent(event: StoreEvent): void {
    if (event.type === 'MODIFIED' && event.object.metadata.deletionTimestamp) {
      this.schedule();
    } else if (event.type === 'DELETED' && event.object.metadata.namespace) {
      const ns = this.api.store.get('/namespaces', undefined, event.object.metadata.namespace);
      if (ns?.metadata.deletionTimestamp) this.schedule();
    }
  }

  private schedule(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = setImmediate(() => {
      this.scheduled = undefined;
      this.run();
    });
  }

  private all(): Entry[] {
    const out: Entry[] = [];
    for (const type of this.api.registry.all()) {
      if (type.virtual || type.storage) continue;
      for (const object of this.api.store.list(storageKey(type))) out.push({ type, object });
    }
    return out;
  }

  private run(): void {
    const entries = this.all();
    this.collectDependents(entries);
    for (const { type, object } of entries) {
      if (!object.metadata.deletionTimestamp) continue;
      if (type.resource === 'namespaces' && type.group === '') this.finishNamespace(type, object, entries);
      else this.runFinalizers(type, object, entries);
    }
  }

  /** Dependents whose owners are all gone are deleted; references to gone owners are dropped. */
  private collectDependents(entries: Entry[]): void {
    const live = new Set(entries.map((e) => e.object.metadata.uid));
    for (const { type, object } of entries) {
      const refs = object.metadata.ownerReferences ?? [];
      const remaining = refs.filter((r) => live.has(r.uid));
      if (remaining.length === refs.length || object.metadata.deletionTimestamp) continue;
      if (remaining.length === 0) this.tryDelete(type, object);
      else this.setOwners(type, object, remaining);
    }
  }

  private dependents(entries: Entry[], uid: string | undefined): Entry[] {
    return entries.filter((e) => (e.object.metadata.ownerReferences ?? []).some((r) => r.uid === uid));
  }

  private runFinalizers(type: ResourceType, object: KObject, entries: Entry[]): void {
    const finalizers = object.metadata.finalizers ?? [];
    const deps = this.dependents(entries, object.metadata.uid);
    if (finalizers.includes('orphan')) {
      for (const d of deps) this.setOwners(d.type, d.object, (d.object.metadata.ownerReferences ?? []).filter((r) => r.uid !== object.metadata.uid));
      this.dropFinalizer(type, object, 'orphan');
    } else if (finalizers.includes('foregroundDeletion')) {
      for (const d of deps) if (!d.object.metadata.deletionTimestamp) this.tryDelete(d.type, d.object, 'Foreground');
      // only dependents that block their owner's deletion are waited for
      const blocking = deps.filter((d) => (d.object.metadata.ownerReferences ?? []).some((r) => r.uid === object.metadata.uid && r.blockOwnerDeletion));
      if (blocking.length === 0) this.dropFinalizer(type, object, 'foregroundDeletion');
    }
  }

  private finishNamespace(type: ResourceType, ns: KObject, entries: Entry[]): void {
    const name = ns.metadata.name;
    const contents = entries.filter((e) => e.type.namespaced && e.object.metadata.namespace === name);
    for (const e of contents) if (!e.object.metadata.deletionTimestamp) this.tryDelete(e.type, e.object);
    if (contents.length > 0) return;
    const spec = isRecord(ns.spec) ? ns.spec : {};
    this.guard(() => this.api.saveAsSystem(type, { ...ns, spec: { ...spec, finalizers: [] } }));
  }

  private tryDelete(type: ResourceType, object: KObject, propagationPolicy = 'Background'): void {
    this.guard(() => this.api.delete({ type, namespace: object.metadata.namespace, name: object.metadata.name ?? '' }, { propagationPolicy, preconditions: { uid: object.metadata.uid } }));
  }

  private setOwners(type: ResourceType, object: KObject, owners: KObject['metadata']['ownerReferences']): void {
    const metadata = { ...object.metadata, ownerReferences: owners };
    if (owners?.length === 0) delete metadata.ownerReferences;
    this.write(type, { ...object, metadata });
  }

  private dropFinalizer(type: ResourceType, object: KObject, finalizer: string): void {
    this.write(type, { ...object, metadata: { ...object.metadata, finalizers: (object.metadata.finalizers ?? []).filter((f) => f !== finalizer) } });
  }

  private write(type: ResourceType, object: KObject): void {
    this.guard(() => this.api.saveAsSystem(type, object));
  }

  /** A failed step (a conflict with a client's write) is retried by another pass shortly. */
  private guard(step: () => unknown): void {
    try {
      step();
    } catch {
      if (this.retry || this.closed) return;
      this.retry = setTimeout(() => {
        this.retry = undefined;
        this.schedule();
      }, 200);
      this.retry.unref();
    }
  }
}
