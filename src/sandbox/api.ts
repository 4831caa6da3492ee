import { DEFAULTERS, VALIDATORS } from './admission.js';
import type { UserInfo } from './auth.js';
import { crdCauses, crdStatus, crdToType } from './crds.js';
import { applyPatch } from './patching.js';
import type { PatchType } from './patch.js';
import { groupResource, type Registry, type ResourceType } from './registry.js';
import { validateAgainstSchema } from './schema-validate.js';
import { parseFieldSelector, parseLabelSelector } from './selectors.js';
import {
  ApiError, alreadyExists, badRequest, conflict, failure, forbidden, invalid, methodNotAllowed, notFound, type StatusCause,
} from './status.js';
import type { Store } from './store.js';
import { clone, isRecord, type KObject } from './types.js';
import { metadataCauses, type NameRule } from './validation.js';
import {
  atVersion, checkBody, decodeContinue, encodeContinue, hasFinalizers, newUid, randomSuffix, sameObject, sortKey, specChanged, withResourceVersion,
} from './objects.js';

export interface Caller {
  user: UserInfo;
  /** The sandbox's own controllers: may write read-only resources and set status on create. */
  system?: boolean;
}

export interface WriteOptions {
  dryRun?: boolean;
  fieldValidation?: string;
  /** Warnings for the response's `Warning` headers. */
  warnings?: string[];
}

export interface DeleteOptions {
  dryRun?: boolean;
  propagationPolicy?: string;
  preconditions?: { uid?: string; resourceVersion?: string };
}

export interface ListQuery {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
}

export type Subresource = 'status' | undefined;

const CRD_KEY = 'apiextensions.k8s.io/CustomResourceDefinition';
const NAMESPACES = '/namespaces';
const NOT_CLIENT_WRITABLE = 'the sandbox makes pods only through its simulated workloads';

function nameRule(type: ResourceType): NameRule {
  if (type.group === 'rbac.authorization.k8s.io') return 'path';
  return type.resource === 'namespaces' || type.resource === 'services' ? 'label' : 'subdomain';
}

/** Listeners the API calls after it removed an object (garbage collection, namespaces). */
export type RemovalHook = (type: ResourceType, last: KObject) => void;

/** The resource operations of the API server, over the registry and the store. */
export class Api {
  removalHooks: RemovalHook[] = [];

  constructor(readonly registry: Registry, readonly store: Store, private readonly clock: () => Date = () => new Date()) {}

  now(): string {
    return this.clock().toISOString().replace(/\.\d{3}Z$/, 'Z');
  }

  get(type: ResourceType, namespace: string | undefined, name: string, version = type.versions[0] ?? ''): KObject {
    const object = this.store.get(groupResource(type), type.namespaced ? namespace : undefined, name);
    if (!object) throw notFound(type, name);
    return atVersion(object, type, version);
  }

  find(type: ResourceType, namespace: string | undefined, name: string): KObject | undefined {
    return this.store.get(groupResource(type), type.namespaced ? namespace : undefined, name);
  }

  list(type: ResourceType, namespace: string | undefined, query: ListQuery = {}, version = type.versions[0] ?? ''): KObject {
    const labels = parseLabelSelector(query.labelSelector);
    const fields = parseFieldSelector(query.fieldSelector, type.kind);
    const rv = this.store.resourceVersion;
    let items = this.store.list(groupResource(type), type.namespaced ? namespace : undefined).filter((o) => labels(o) && fields(o));
    items.sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : sortKey(a) > sortKey(b) ? 1 : 0));
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
    const apiVersion = type.group ? `${type.group}/${version}` : version;
    return { apiVersion, kind: type.listKind, metadata, items: items.map((o) => atVersion(o, type, version)) };
  }

  create(type: ResourceType, namespace: string | undefined, body: unknown, version: string, caller: Caller, opts: WriteOptions = {}): KObject {
    if (type.readOnly && !caller.system) throw methodNotAllowed(`${NOT_CLIENT_WRITABLE}: create is not allowed`);
    const object = checkBody(type, version, clone(body));
    this.placeNamespace(type, namespace, object);
    const meta = object.metadata;
    if (!meta.name && meta.generateName) meta.name = `${meta.generateName}${randomSuffix()}`;
    if (meta.name && this.find(type, meta.namespace, meta.name)) throw alreadyExists(type, meta.name);
    Object.assign(meta, { uid: newUid(), creationTimestamp: this.now(), generation: type.generation ? 1 : undefined });
    for (const key of ['resourceVersion', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'managedFields'] as const) delete meta[key];
    if (!type.generation) delete meta.generation;
    if (type.status && !caller.system) delete object.status;
    const admitted = this.admit(type, version, object, undefined, opts);
    return opts.dryRun ? admitted : this.commit(type, admitted);
  }

  update(type: ResourceType, namespace: string | undefined, name: string, body: unknown, version: string, sub: Subresource, caller: Caller, opts: WriteOptions = {}): KObject {
    if (type.readOnly && !caller.system) throw methodNotAllowed(`${NOT_CLIENT_WRITABLE}: update is not allowed`);
    const incoming = checkBody(type, version, clone(body));
    if (incoming.metadata.name !== undefined && incoming.metadata.name !== name) {
      throw badRequest(`the name of the object (${incoming.metadata.name}) does not match the name on the URL (${name})`);
    }
    const old = this.find(type, namespace, name);
    if (!old) {
      if (type.createOnUpdate && sub === undefined) return this.create(type, namespace, { ...incoming, metadata: { ...incoming.metadata, name } }, version, caller, opts);
      throw notFound(type, name);
    }
    const rv = incoming.metadata.resourceVersion;
    if (rv !== undefined && rv !== '' && rv !== old.metadata.resourceVersion) {
      throw conflict(type, name, 'the object has been modified; please apply your changes to the latest version and try again');
    }
    return this.write(type, version, old, this.prepare(type, old, incoming, sub), opts);
  }

  patch(type: ResourceType, namespace: string | undefined, name: string, patch: { type: PatchType; body: unknown }, version: string, sub: Subresource, caller: Caller, opts: WriteOptions = {}): KObject {
    if (type.readOnly && !caller.system) throw methodNotAllowed(`${NOT_CLIENT_WRITABLE}: patch is not allowed`);
    const old = this.find(type, namespace, name);
    if (!old) {
      if (patch.type === 'apply' && sub === undefined) return this.create(type, namespace, applyPatch(type, {}, patch), version, caller, opts);
      throw notFound(type, name);
    }
    const patched = applyPatch(type, atVersion(old, type, version), patch);
    return this.update(type, namespace, name, patched, version, sub, caller, opts);
  }

  delete(type: ResourceType, namespace: string | undefined, name: string, opts: DeleteOptions = {}): { object: KObject; removed: boolean } {
    if (type.virtual) throw methodNotAllowed(`the server does not allow this method on the requested resource`);
    const old = this.find(type, namespace, name);
    if (!old) throw notFound(type, name);
    const pre = opts.preconditions ?? {};
    if (pre.uid && pre.uid !== old.metadata.uid) throw conflict(type, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${old.metadata.uid}`);
    if (pre.resourceVersion && pre.resourceVersion !== old.metadata.resourceVersion) {
      throw conflict(type, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${old.metadata.resourceVersion}`);
    }
    if (opts.dryRun) return { object: old, removed: false };
    const finalizers = [...(old.metadata.finalizers ?? [])];
    if (opts.propagationPolicy === 'Orphan' && !finalizers.includes('orphan')) finalizers.push('orphan');
    if (opts.propagationPolicy === 'Foreground' && !finalizers.includes('foregroundDeletion')) finalizers.push('foregroundDeletion');
    if (finalizers.length === 0 && type.resource !== 'namespaces') return { object: this.removeNow(type, old), removed: true };
    if (old.metadata.deletionTimestamp) return { object: old, removed: false };
    const marked: KObject = { ...old, metadata: { ...old.metadata, finalizers, deletionTimestamp: this.now(), deletionGracePeriodSeconds: 0 } };
    if (type.resource === 'namespaces') marked.status = { ...(isRecord(old.status) ? old.status : {}), phase: 'Terminating' };
    if (marked.metadata.finalizers?.length === 0) delete marked.metadata.finalizers;
    return { object: this.commit(type, marked, old), removed: false };
  }

  /** Removes an object now (its finalizers are done): DELETED event, then removal hooks. */
  removeNow(type: ResourceType, old: KObject, prev: KObject = old): KObject {
    const last = withResourceVersion(old, this.store.nextResourceVersion());
    this.store.remove(groupResource(type), last, prev);
    if (`${type.group}/${type.kind}` === CRD_KEY) this.unregisterCrd(last);
    for (const hook of this.removalHooks) hook(type, last);
    return last;
  }

  private unregisterCrd(crd: KObject): void {
    const spec = crd.spec as { group: string; names: { plural: string } };
    const type = this.registry.get(spec.group, spec.names.plural);
    if (!type || type.crdName !== crd.metadata.name) return;
    for (const o of this.store.list(groupResource(type))) this.removeNow(type, o);
    this.registry.remove(spec.group, spec.names.plural);
    this.store.dropResource(groupResource(type));
  }

  private placeNamespace(type: ResourceType, namespace: string | undefined, object: KObject): void {
    if (!type.namespaced) {
      delete object.metadata.namespace;
      return;
    }
    if (!namespace) throw badRequest('the namespace of the object must be given in the request path');
    if (object.metadata.namespace && object.metadata.namespace !== namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    object.metadata.namespace = namespace;
    const ns = this.store.get(NAMESPACES, undefined, namespace);
    if (!ns) throw notFound({ group: '', resource: 'namespaces' }, namespace);
    if (ns.metadata.deletionTimestamp) {
      const name = object.metadata.name ?? object.metadata.generateName ?? '';
      throw forbidden(`${type.resource} "${name}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`);
    }
  }

  /** The next state of an object from a client's update: system metadata kept, status per subresource. */
  private prepare(type: ResourceType, old: KObject, incoming: KObject, sub: Subresource): KObject {
    if (sub === 'status') return { ...old, status: incoming.status };
    const keep = ['name', 'namespace', 'uid', 'creationTimestamp', 'resourceVersion', 'generation', 'deletionTimestamp', 'deletionGracePeriodSeconds'] as const;
    const metadata = { ...incoming.metadata };
    for (const key of keep) {
      if (old.metadata[key] === undefined) delete metadata[key];
      else metadata[key] = old.metadata[key] as never;
    }
    const next: KObject = { ...incoming, metadata };
    if (type.status) {
      if (old.status === undefined) delete next.status;
      else next.status = old.status;
    }
    return next;
  }

  private write(type: ResourceType, version: string, old: KObject, next: KObject, opts: WriteOptions): KObject {
    if (old.metadata.deletionTimestamp) {
      const added = (next.metadata.finalizers ?? []).filter((f) => !(old.metadata.finalizers ?? []).includes(f));
      if (added.length > 0) {
        throw invalid({ kind: type.kind, group: type.group, name: old.metadata.name ?? '' }, [{ reason: 'FieldValueForbidden', field: 'metadata.finalizers', message: `Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers ${JSON.stringify(added)}` }]);
      }
    }
    if (next.metadata.finalizers?.length === 0) delete next.metadata.finalizers;
    const admitted = this.admit(type, version, next, old, opts);
    if (type.generation && specChanged(type, old, admitted)) admitted.metadata.generation = (old.metadata.generation ?? 0) + 1;
    if (sameObject(admitted, old)) return atVersion(old, type, version);
    if (opts.dryRun) return admitted;
    if (admitted.metadata.deletionTimestamp && !hasFinalizers(admitted) && !this.namespacePending(type, admitted)) {
      return this.removeNow(type, admitted, old);
    }
    return this.commit(type, admitted, old);
  }

  private namespacePending(type: ResourceType, object: KObject): boolean {
    if (type.resource !== 'namespaces' || type.group !== '') return false;
    const spec = isRecord(object.spec) ? object.spec : {};
    return Array.isArray(spec.finalizers) && spec.finalizers.length > 0;
  }

  private admit(type: ResourceType, version: string, object: KObject, old: KObject | undefined, opts: WriteOptions): KObject {
    const key = `${type.group}/${type.kind}`;
    DEFAULTERS[key]?.(object, old);
    let result = object;
    const causes: StatusCause[] = [...metadataCauses(object, nameRule(type)), ...(VALIDATORS[key]?.(object, old) ?? [])];
    const schema = type.builtin ? undefined : type.schemas.get(version);
    if (schema) {
      const checked = validateAgainstSchema(schema, object);
      result = checked.value as KObject;
      causes.push(...checked.causes);
      this.unknownFields(checked.unknown, opts);
    }
    if (key === CRD_KEY) causes.push(...crdCauses(object));
    if (causes.length > 0) throw invalid({ kind: type.kind, group: type.group, name: object.metadata.name ?? '' }, causes);
    if (key === CRD_KEY) result.status = crdStatus(result, this.now());
    return result;
  }

  private unknownFields(paths: string[], opts: WriteOptions): void {
    if (paths.length === 0) return;
    const messages = paths.map((p) => `unknown field "${p}"`);
    if (opts.fieldValidation === 'Strict') throw new ApiError(failure(400, 'BadRequest', `strict decoding error: ${messages.join(', ')}`));
    if (opts.fieldValidation === 'Warn') opts.warnings?.push(...messages);
  }

  private commit(type: ResourceType, next: KObject, prev?: KObject): KObject {
    const stored = withResourceVersion(next, this.store.nextResourceVersion());
    this.store.put(groupResource(type), stored, prev ? 'MODIFIED' : 'ADDED', prev);
    if (`${type.group}/${type.kind}` === CRD_KEY) this.registry.add(crdToType(stored));
    return stored;
  }
}
