import { DEFAULTERS, VALIDATORS } from './admission.js';
import { checkDecodable } from './decode-rules.js';
import { eventCauses } from './event-rules.js';
import { pruneBuiltin } from './known-fields.js';
import {
  annotationSizeCauses,
  dataSizeCauses,
  MAX_STORED_BYTES,
  ownerReferenceCauses,
  storedBytes,
} from './meta-rules.js';
import { SYSTEM_USER, type UserInfo } from './auth.js';
import { celCauses } from './cel.js';
import { crdCauses, crdStatus, crdToType, crdValidations } from './crds.js';
import { applyPatch } from './patching.js';
import { checkServiceAccount } from './pod-spec.js';
import type { PatchType } from './patch.js';
import { storageKey, type Registry, type ResourceType } from './registry.js';
import { validateAgainstSchema } from './schema-validate.js';
import { listObjects, type ListQuery } from './listing.js';
import { checkNoNewFinalizers, checkPreconditions, type DeleteOptions, finalizersFor } from './deletion.js';
import {
  ApiError,
  alreadyExists,
  badRequest,
  conflict,
  failure,
  forbidden,
  invalid,
  methodNotAllowed,
  notFound,
  type StatusCause,
} from './status.js';
import type { Store } from './store.js';
import { clone, isRecord, type KObject } from './types.js';
import { metadataCauses, type NameRule } from './validation.js';
import {
  atVersion,
  checkBody,
  storedVersion,
  hasFinalizers,
  newUid,
  randomSuffix,
  sameObject,
  specChanged,
  withResourceVersion,
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

export type { ListQuery } from './listing.js';

export type Subresource = 'status' | undefined;

const CRD_KEY = 'apiextensions.k8s.io/CustomResourceDefinition';
const NAMESPACES = '/namespaces';

function nameRule(type: ResourceType): NameRule {
  if (type.group === 'rbac.authorization.k8s.io') return 'path';
  return type.resource === 'namespaces' || type.resource === 'services' ? 'label' : 'subdomain';
}

const SYSTEM: Caller = { user: SYSTEM_USER, system: true };

/** Where an operation applies: the resource type, and the namespace, name, version, subresource. */
export interface Target {
  type: ResourceType;
  namespace?: string;
  name?: string;
  /** The API version of the request (default: the type's first served version). */
  version?: string;
  sub?: Subresource;
}

interface Admission {
  type: ResourceType;
  version: string;
  object: KObject;
  old?: KObject;
}

/** Custom resources and CRDs refuse an update without resourceVersion; built-ins allow it. */
function allowsUnconditionalUpdate(type: ResourceType): boolean {
  return type.builtin && `${type.group}/${type.kind}` !== CRD_KEY;
}

/** ObjectMeta and kind rules beyond names and labels: owner references, sizes, Events. */
function builtinCauses(w: Admission): StatusCause[] {
  const { type, object, old } = w;
  const causes = [...ownerReferenceCauses(object), ...annotationSizeCauses(object)];
  if (!type.builtin) return causes;
  if (type.group === '' && (type.kind === 'ConfigMap' || type.kind === 'Secret'))
    causes.push(...dataSizeCauses(type.kind, object));
  if (type.kind === 'Event')
    causes.push(...eventCauses(object, { coreApi: type.group === '', create: old === undefined }));
  return causes;
}

/** Optimistic concurrency: a stale resourceVersion is 409; none at all is 422 for kinds that need one. */
function checkUpdateVersion(type: ResourceType, rv: string | undefined, old: KObject, caller: Caller): void {
  const name = old.metadata.name ?? '';
  if ((rv === undefined || rv === '') && !caller.system && !allowsUnconditionalUpdate(type)) {
    throw invalid({ kind: type.kind, group: type.group, name }, [
      {
        reason: 'FieldValueInvalid',
        field: 'metadata.resourceVersion',
        message: 'Invalid value: 0x0: must be specified for an update',
      },
    ]);
  }
  if (rv !== undefined && rv !== '' && rv !== old.metadata.resourceVersion) {
    throw conflict(
      type,
      name,
      'the object has been modified; please apply your changes to the latest version and try again',
    );
  }
}

function versionOf(t: Target): string {
  return t.version ?? t.type.versions[0] ?? '';
}

/** Listeners the API calls after it removed an object (garbage collection, namespaces). */
export type RemovalHook = (type: ResourceType, last: KObject) => void;

/** The resource operations of the API server, over the registry and the store. */
/** Called after every update that was stored (not a dry run, not a no-op), with the writer. */
export type UpdateHook = (type: ResourceType, old: KObject, next: KObject, caller: Caller) => void;

export class Api {
  removalHooks: RemovalHook[] = [];
  updateHooks: UpdateHook[] = [];
  /** Set when a kubelet finishes graceful deletions: deleted pods are Terminating for their grace period. */
  gracefulPods = false;

  constructor(
    readonly registry: Registry,
    readonly store: Store,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  now(): string {
    return this.clock()
      .toISOString()
      .replace(/\.\d{3}Z$/, 'Z');
  }

  get(type: ResourceType, namespace: string | undefined, name: string, version = type.versions[0] ?? ''): KObject {
    const object = this.store.get(storageKey(type), type.namespaced ? namespace : undefined, name);
    if (!object) throw notFound(type, name);
    return atVersion(object, type, version);
  }

  find(type: ResourceType, namespace: string | undefined, name: string): KObject | undefined {
    return this.store.get(storageKey(type), type.namespaced ? namespace : undefined, name);
  }

  list(
    type: ResourceType,
    namespace: string | undefined,
    query: ListQuery = {},
    version = type.versions[0] ?? '',
  ): KObject {
    return listObjects(this.store, { type, namespace: type.namespaced ? namespace : undefined, version }, query);
  }

  create(at: Target, body: unknown, caller: Caller, opts: WriteOptions = {}): KObject {
    const { type } = at;
    const version = versionOf(at);
    const object = checkBody(type, version, clone(body));
    checkDecodable(type, version, object);
    if (object.metadata.resourceVersion && !caller.system) {
      throw new ApiError(
        failure(
          500,
          'InternalError',
          'Internal error occurred: resourceVersion should not be set on objects to be created',
        ),
      );
    }
    this.placeNamespace(type, at.namespace, object);
    this.initMetadata(type, object);
    if (type.status && !caller.system) delete object.status;
    if (type.group === '' && type.resource === 'pods')
      checkServiceAccount(object, (ns, name) => this.store.get('/serviceaccounts', ns, name) !== undefined);
    const admitted = this.admit({ type, version, object }, opts);
    return atVersion(opts.dryRun ? admitted : this.commit(type, admitted), type, version);
  }

  private initMetadata(type: ResourceType, object: KObject): void {
    const meta = object.metadata;
    if (!meta.name && meta.generateName) meta.name = `${meta.generateName}${randomSuffix()}`;
    if (meta.name && this.find(type, meta.namespace, meta.name)) throw alreadyExists(type, meta.name);
    Object.assign(meta, { uid: newUid(), creationTimestamp: this.now(), generation: 1 });
    for (const key of ['resourceVersion', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'managedFields'] as const)
      delete meta[key];
    if (!type.generation) delete meta.generation;
  }

  update(ref: Target & { name: string }, body: unknown, caller: Caller, opts: WriteOptions = {}): KObject {
    const { type, name } = ref;
    const version = versionOf(ref);
    const incoming = checkBody(type, version, clone(body));
    checkDecodable(type, version, incoming);
    if (incoming.metadata.name !== undefined && incoming.metadata.name !== name) {
      throw badRequest(
        `the name of the object (${incoming.metadata.name}) does not match the name on the URL (${name})`,
      );
    }
    const old = this.find(type, ref.namespace, name);
    if (!old) {
      if (type.createOnUpdate && ref.sub === undefined)
        return this.create(ref, { ...incoming, metadata: { ...incoming.metadata, name } }, caller, opts);
      throw notFound(type, name);
    }
    checkUpdateVersion(type, incoming.metadata.resourceVersion, old, caller);
    const written = this.write({ type, version, object: this.prepare(type, old, incoming, ref.sub) }, old, opts);
    if (!opts.dryRun && written.metadata.resourceVersion !== old.metadata.resourceVersion)
      for (const hook of this.updateHooks) hook(type, old, written, caller);
    return atVersion(written, type, version);
  }

  patch(
    ref: Target & { name: string },
    patch: { type: PatchType; body: unknown },
    caller: Caller,
    opts: WriteOptions = {},
  ): KObject {
    const { type } = ref;
    const old = this.find(type, ref.namespace, ref.name);
    if (!old) throw notFound(type, ref.name);
    const patched = applyPatch(type, atVersion(old, type, versionOf(ref)), patch);
    return this.update(ref, patched, caller, opts);
  }

  /** The sandbox's controllers: create an object in its own namespace. */
  createAsSystem(type: ResourceType, object: KObject): KObject {
    return this.create({ type, namespace: object.metadata.namespace }, object, SYSTEM);
  }

  /** The sandbox's controllers: write an object (or its status) back at its own version. */
  saveAsSystem(type: ResourceType, object: KObject, sub?: Subresource): KObject {
    const ref = {
      type,
      namespace: object.metadata.namespace,
      name: object.metadata.name ?? '',
      sub,
      version: storedVersion(type, object),
    };
    return this.update(ref, object, SYSTEM);
  }

  delete(ref: Target & { name: string }, opts: DeleteOptions = {}): { object: KObject; removed: boolean } {
    const { type, name } = ref;
    if (type.virtual) throw methodNotAllowed(`the server does not allow this method on the requested resource`);
    const old = this.find(type, ref.namespace, name);
    if (!old) throw notFound(type, name);
    checkPreconditions(type, old, opts.preconditions);
    if (opts.dryRun) return { object: old, removed: false };
    const grace = this.graceSeconds(type, old, opts);
    if (grace > 0)
      return {
        object: old.metadata.deletionTimestamp ? old : this.commit(type, this.markTerminating(old, grace, opts), old),
        removed: false,
      };
    const finalizers = finalizersFor(old, opts.propagationPolicy);
    const isNamespace = type.resource === 'namespaces' && type.group === '';
    if (finalizers.length === 0 && !isNamespace) return { object: this.removeNow(type, old), removed: true };
    if (old.metadata.deletionTimestamp) return { object: old, removed: false };
    return { object: this.commit(type, this.markDeleting(old, finalizers, isNamespace), old), removed: false };
  }

  /** A pod's graceful deletion period in seconds (0: none; other kinds never have one). */
  private graceSeconds(type: ResourceType, old: KObject, opts: DeleteOptions): number {
    if (!this.gracefulPods || type.group !== '' || type.resource !== 'pods') return 0;
    const fromSpec =
      isRecord(old.spec) && typeof old.spec.terminationGracePeriodSeconds === 'number'
        ? old.spec.terminationGracePeriodSeconds
        : 30;
    return opts.gracePeriodSeconds ?? fromSpec;
  }

  /** A pod being deleted gracefully: deletionTimestamp at the end of its grace period, as the API server sets it. */
  private markTerminating(old: KObject, grace: number, opts: DeleteOptions): KObject {
    const finalizers = finalizersFor(old, opts.propagationPolicy);
    const deletionTimestamp = new Date(Date.parse(this.now()) + grace * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const metadata = {
      ...old.metadata,
      deletionTimestamp,
      deletionGracePeriodSeconds: grace,
      ...(finalizers.length ? { finalizers } : {}),
    };
    return { ...old, metadata };
  }

  /** The object once deletion has started: deletionTimestamp, the policy's finalizers, generation bumped. */
  private markDeleting(old: KObject, finalizers: string[], isNamespace: boolean): KObject {
    const marked: KObject = {
      ...old,
      metadata: { ...old.metadata, finalizers, deletionTimestamp: this.now(), deletionGracePeriodSeconds: 0 },
    };
    // the API server bumps generation when deletion starts, so controllers see a change to act on
    if (old.metadata.generation) marked.metadata.generation = old.metadata.generation + 1;
    if (isNamespace) marked.status = { ...(isRecord(old.status) ? old.status : {}), phase: 'Terminating' };
    if (finalizers.length === 0) delete marked.metadata.finalizers;
    return marked;
  }

  /** Removes an object now (its finalizers are done): DELETED event, then removal hooks. */
  removeNow(type: ResourceType, old: KObject, prev: KObject = old): KObject {
    const last = withResourceVersion(old, this.store.nextResourceVersion());
    this.store.remove(storageKey(type), last, prev);
    if (`${type.group}/${type.kind}` === CRD_KEY) this.unregisterCrd(last);
    for (const hook of this.removalHooks) hook(type, last);
    return last;
  }

  private unregisterCrd(crd: KObject): void {
    const spec = crd.spec as { group: string; names: { plural: string } };
    const type = this.registry.get(spec.group, spec.names.plural);
    if (!type || type.crdName !== crd.metadata.name) return;
    for (const o of this.store.list(storageKey(type))) this.removeNow(type, o);
    this.registry.remove(spec.group, spec.names.plural);
    this.store.dropResource(storageKey(type));
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
      throw forbidden(
        `${type.resource} "${name}" is forbidden: unable to create new content in namespace ${namespace} because it ` +
          `is being terminated`,
      );
    }
  }

  /** The next state of an object from a client's update: system metadata kept, status per subresource. */
  private prepare(type: ResourceType, old: KObject, incoming: KObject, sub: Subresource): KObject {
    if (sub === 'status') return { ...old, status: incoming.status };
    const keep = [
      'name',
      'namespace',
      'uid',
      'creationTimestamp',
      'resourceVersion',
      'generation',
      'deletionTimestamp',
      'deletionGracePeriodSeconds',
    ] as const;
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

  private write(w: Admission, old: KObject, opts: WriteOptions): KObject {
    const { type, object: next } = w;
    checkNoNewFinalizers(type, old, next);
    if (next.metadata.finalizers?.length === 0) delete next.metadata.finalizers;
    const admitted = this.admit({ ...w, old }, opts);
    if (type.generation && specChanged(type, old, admitted))
      admitted.metadata.generation = (old.metadata.generation ?? 0) + 1;
    if (sameObject(type, admitted, old)) return atVersion(old, type, w.version);
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

  private admit(w: Admission, opts: WriteOptions): KObject {
    const { type, object, old } = w;
    const key = `${type.group}/${type.kind}`;
    DEFAULTERS[key]?.(object, old);
    if (type.builtin) this.unknownFields(pruneBuiltin(key, object), opts);
    const causes: StatusCause[] = [
      ...metadataCauses(object, nameRule(type)),
      ...builtinCauses(w),
      ...(VALIDATORS[key]?.(object, old) ?? []),
    ];
    const result = this.schemaCheck(w, causes, opts);
    if (key === CRD_KEY) causes.push(...this.crdCauses(object, opts));
    if (causes.length > 0)
      throw invalid({ kind: type.kind, group: type.group, name: object.metadata.name ?? '' }, causes);
    if (key === CRD_KEY) result.status = crdStatus(result, this.now());
    return result;
  }

  /** A custom resource against its version's openAPIV3Schema (pruned, defaulted) and CEL rules. */
  private schemaCheck(w: Admission, causes: StatusCause[], opts: WriteOptions): KObject {
    const schema = w.type.builtin ? undefined : w.type.schemas.get(w.version);
    if (!schema) return w.object;
    const checked = validateAgainstSchema(schema, w.object);
    causes.push(...checked.causes);
    this.unknownFields(checked.unknown, opts);
    const result = checked.value as KObject;
    causes.push(...celCauses(w.type.validations?.get(w.version) ?? [], result, w.old));
    return result;
  }

  /** A CRD's own rules; the CEL rules the sandbox cannot enforce are said in a Warning. */
  private crdCauses(crd: KObject, opts: WriteOptions): StatusCause[] {
    opts.warnings?.push(...crdValidations(crd).notEnforced);
    return crdCauses(crd, (group, plural) => this.registry.get(group, plural)?.builtin === true);
  }

  private unknownFields(paths: string[], opts: WriteOptions): void {
    if (paths.length === 0) return;
    const messages = paths.map((p) => `unknown field "${p}"`);
    if (opts.fieldValidation === 'Strict')
      throw new ApiError(failure(400, 'BadRequest', `strict decoding error: ${messages.join(', ')}`));
    if (opts.fieldValidation === 'Warn') opts.warnings?.push(...messages);
  }

  private commit(type: ResourceType, next: KObject, prev?: KObject): KObject {
    if (storedBytes(next) > MAX_STORED_BYTES)
      throw new ApiError(failure(500, 'InternalError', 'etcdserver: request is too large'));
    const stored = withResourceVersion(next, this.store.nextResourceVersion());
    this.store.put(storageKey(type), stored, prev ? 'MODIFIED' : 'ADDED', prev);
    if (`${type.group}/${type.kind}` === CRD_KEY) this.registry.add(crdToType(stored));
    return stored;
  }
}
