import type { Api } from './api.js';
import { randomIn, Timers, wallClock, type SandboxClock } from './clock.js';
import { storageKey, type GroupResource, type ResourceType } from './registry.js';
import type { StoreEvent } from './store.js';
import { newEvent } from './pods.js';
import { isRecord, jsonEqual, type KObject, type OwnerReference } from './types.js';

interface Entry {
  type: ResourceType;
  object: KObject;
}

type GcKeys = Map<string, { gr: GroupResource; namespace?: string; name: string }>;

/**
 * The garbage collector and namespace controller: background cascade to dependents whose owners
 * are gone, the `orphan` and `foregroundDeletion` finalizers, and the emptying of terminating
 * namespaces. A pass looks at what changed since the last one (objects whose owner references
 * changed, dependents of removed objects) and at every terminating object, so that a pass costs
 * what changed, not the whole store; the first pass, and the one after a failed step, look at
 * every object (a failed step is simply done again). Passes are batched on the next turn of the
 * event loop, as a controller's queue would.
 */
export class GarbageCollector {
  private scheduled = false;
  private retrying = false;
  private readonly timers: Timers;
  /** Look at every object in the next pass. */
  private full = true;
  /** Objects to look at in the next pass, by resource and key. */
  private readonly pending: GcKeys = new Map();
  /** Objects with a deletionTimestamp: looked at in every pass until they are gone. */
  private readonly terminating: GcKeys = new Map();

  constructor(
    private readonly api: Api,
    clock: SandboxClock = wallClock,
    private readonly lagMs: readonly [number, number] = [0, 0],
  ) {
    this.timers = new Timers(clock);
    api.removalHooks.push((_type, last) => {
      for (const d of api.store.dependentsOf(last.metadata.uid)) this.note(this.pending, d.gr, d.object);
      this.schedule();
    });
    api.store.subscribe((event) => this.onEvent(event));
  }

  close(): void {
    this.timers.close();
  }

  private note(into: GcKeys, gr: GroupResource, o: KObject): void {
    const { namespace, name = '' } = o.metadata;
    into.set(`${gr} ${namespace ?? ''}/${name}`, { gr, namespace, name });
  }

  /** Terminating objects are looked at in every pass until their DELETED event. */
  private track(event: StoreEvent): void {
    const o = event.object;
    if (event.type === 'DELETED')
      this.terminating.delete(`${event.gr} ${o.metadata.namespace ?? ''}/${o.metadata.name}`);
    else if (o.metadata.deletionTimestamp) this.note(this.terminating, event.gr, o);
  }

  private onEvent(event: StoreEvent): void {
    this.track(event);
    const o = event.object;
    const refs = o.metadata.ownerReferences;
    if (event.type !== 'DELETED' && refs?.length && !jsonEqual(refs, event.prev?.metadata.ownerReferences)) {
      this.note(this.pending, event.gr, o);
      this.schedule();
    } else if (event.type === 'MODIFIED' && o.metadata.deletionTimestamp) {
      this.schedule();
    } else if (event.type === 'DELETED' && o.metadata.namespace) {
      const ns = this.api.store.get('/namespaces', undefined, o.metadata.namespace);
      if (ns?.metadata.deletionTimestamp) this.schedule();
    }
  }

  private schedule(): void {
    if (this.scheduled || this.timers.closed) return;
    this.scheduled = true;
    this.timers.after(randomIn(this.lagMs), () => {
      this.scheduled = false;
      this.run();
    });
  }

  /** The served resources by where they are stored (not virtual ones, nor views of another's storage). */
  private types(): Map<GroupResource, ResourceType> {
    const out = new Map<GroupResource, ResourceType>();
    for (const type of this.api.registry.all()) if (!type.virtual && !type.storage) out.set(storageKey(type), type);
    return out;
  }

  /** Every object (a full pass), else the pending and terminating ones as they are now. */
  private entries(types: Map<GroupResource, ResourceType>): Entry[] {
    const out: Entry[] = [];
    if (this.full) {
      for (const [gr, type] of types) for (const object of this.api.store.list(gr)) out.push({ type, object });
    } else {
      const keys = new Map([...this.pending, ...this.terminating]);
      for (const { gr, namespace, name } of keys.values()) {
        const type = types.get(gr);
        const object = this.api.store.get(gr, namespace, name);
        if (type && object) out.push({ type, object });
      }
    }
    this.full = false;
    this.pending.clear();
    return out;
  }

  private run(): void {
    const types = this.types();
    const entries = this.entries(types);
    this.collectDependents(entries);
    for (const { type, object } of entries) {
      if (!object.metadata.deletionTimestamp) continue;
      if (type.resource === 'namespaces' && type.group === '') this.finishNamespace(type, object, types);
      else this.runFinalizers(type, object, types);
    }
  }

  /**
   * Dependents whose owners are all absent are deleted; references to absent owners are dropped.
   * An owner is absent when no object of its kind, name and UID is in the dependent's namespace
   * (a namespaced owner of a cluster-scoped dependent, or one in another namespace, never is).
   */
  private collectDependents(entries: Entry[]): void {
    for (const { type, object } of entries) {
      const refs = object.metadata.ownerReferences ?? [];
      if (refs.length === 0 || object.metadata.deletionTimestamp) continue;
      const remaining = refs.filter((r) => this.ownerPresent(type, object, r));
      if (remaining.length === refs.length) continue;
      if (remaining.length === 0) this.tryDelete(type, object);
      else this.setOwners(type, object, remaining);
    }
  }

  private ownerPresent(type: ResourceType, dependent: KObject, ref: OwnerReference): boolean {
    const ownerType = this.api.registry.byKind(
      ref.apiVersion.includes('/') ? (ref.apiVersion.split('/')[0] ?? '') : '',
      ref.kind,
    );
    // an owner of a kind the server does not serve cannot be looked up: the real collector retries, never deletes
    if (!ownerType) return true;
    const namespace = dependent.metadata.namespace;
    if (ownerType.namespaced && !namespace) {
      this.invalidNamespace(type, dependent, ref);
      return false;
    }
    const owner = this.api.store.get(storageKey(ownerType), ownerType.namespaced ? namespace : undefined, ref.name);
    if (owner?.metadata.uid === ref.uid) return true;
    if (ownerType.namespaced && this.existsElsewhere(ownerType, ref)) this.invalidNamespace(type, dependent, ref);
    return false;
  }

  private existsElsewhere(ownerType: ResourceType, ref: OwnerReference): boolean {
    return this.api.store.byUID(ref.uid)?.gr === storageKey(ownerType);
  }

  /** The Warning the garbage collector records on a dependent whose owner is in another namespace. */
  private invalidNamespace(type: ResourceType, dependent: KObject, ref: OwnerReference): void {
    const events = this.api.registry.get('', 'events');
    if (!events || !dependent.metadata.namespace) return;
    const namespace = dependent.metadata.namespace;
    const message =
      `ownerRef [${ref.apiVersion}/${ref.kind}, namespace: ${namespace}, name: ${ref.name}, uid: ` +
      `${ref.uid}] does not exist in namespace ${JSON.stringify(namespace)}`;
    const about = { ...dependent, apiVersion: dependent.apiVersion ?? type.versions[0], kind: type.kind };
    this.guard(() =>
      this.api.createAsSystem(
        events,
        newEvent(
          about,
          { type: 'Warning', reason: 'OwnerRefInvalidNamespace', message, component: 'garbage-collector-controller' },
          this.api.now(),
        ),
      ),
    );
  }

  private dependents(types: Map<GroupResource, ResourceType>, uid: string | undefined): Entry[] {
    return this.api.store.dependentsOf(uid).flatMap(({ gr, object }) => {
      const type = types.get(gr);
      return type ? [{ type, object }] : [];
    });
  }

  private runFinalizers(type: ResourceType, object: KObject, types: Map<GroupResource, ResourceType>): void {
    const finalizers = object.metadata.finalizers ?? [];
    const deps = this.dependents(types, object.metadata.uid);
    if (finalizers.includes('orphan')) {
      for (const d of deps)
        this.setOwners(
          d.type,
          d.object,
          (d.object.metadata.ownerReferences ?? []).filter((r) => r.uid !== object.metadata.uid),
        );
      this.dropFinalizer(type, object, 'orphan');
    } else if (finalizers.includes('foregroundDeletion')) {
      for (const d of deps) if (!d.object.metadata.deletionTimestamp) this.tryDelete(d.type, d.object, 'Foreground');
      // only dependents that block their owner's deletion are waited for
      const blocking = deps.filter((d) =>
        (d.object.metadata.ownerReferences ?? []).some((r) => r.uid === object.metadata.uid && r.blockOwnerDeletion),
      );
      if (blocking.length === 0) this.dropFinalizer(type, object, 'foregroundDeletion');
    }
  }

  private finishNamespace(type: ResourceType, ns: KObject, types: Map<GroupResource, ResourceType>): void {
    const name = ns.metadata.name;
    const contents = [...types].flatMap(([gr, t]) =>
      t.namespaced ? this.api.store.list(gr, name).map((object) => ({ type: t, object })) : [],
    );
    for (const e of contents) if (!e.object.metadata.deletionTimestamp) this.tryDelete(e.type, e.object);
    if (contents.length > 0) return;
    const spec = isRecord(ns.spec) ? ns.spec : {};
    this.guard(() => this.api.saveAsSystem(type, { ...ns, spec: { ...spec, finalizers: [] } }));
  }

  private tryDelete(type: ResourceType, object: KObject, propagationPolicy = 'Background'): void {
    this.guard(() =>
      this.api.delete(
        { type, namespace: object.metadata.namespace, name: object.metadata.name ?? '' },
        { propagationPolicy, preconditions: { uid: object.metadata.uid } },
      ),
    );
  }

  private setOwners(type: ResourceType, object: KObject, owners: KObject['metadata']['ownerReferences']): void {
    const metadata = { ...object.metadata, ownerReferences: owners };
    if (owners?.length === 0) delete metadata.ownerReferences;
    this.write(type, { ...object, metadata });
  }

  private dropFinalizer(type: ResourceType, object: KObject, finalizer: string): void {
    this.write(type, {
      ...object,
      metadata: { ...object.metadata, finalizers: (object.metadata.finalizers ?? []).filter((f) => f !== finalizer) },
    });
  }

  private write(type: ResourceType, object: KObject): void {
    this.guard(() => this.api.saveAsSystem(type, object));
  }

  /** A failed step (a conflict with a client's write) is retried by another pass shortly. */
  private guard(step: () => unknown): void {
    try {
      step();
    } catch {
      if (this.retrying) return;
      this.retrying = true;
      this.timers.after(200, () => {
        this.retrying = false;
        this.full = true;
        this.schedule();
      });
    }
  }
}
