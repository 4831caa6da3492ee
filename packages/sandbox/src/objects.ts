import { randomUUID } from 'node:crypto';
import { apiVersionOf, type ResourceType } from './registry.js';
import { semanticEqual } from './semantic.js';
import { badRequest } from './status.js';
import { isRecord, jsonEqual, type KObject } from './types.js';

/** Helpers over stored objects that the API operations share. */

const NAME_CHARS = 'bcdfghjklmnpqrstvwxz2456789';

export function randomSuffix(length = 5): string {
  let out = '';
  for (let i = 0; i < length; i++) out += NAME_CHARS[Math.floor(Math.random() * NAME_CHARS.length)];
  return out;
}

export function newUid(): string {
  return randomUUID();
}

/** The object as served at a version (CRD versions share storage; only apiVersion differs). */
export function atVersion(object: KObject, type: ResourceType, version: string): KObject {
  const apiVersion = apiVersionOf(type.group, version);
  if (object.apiVersion === apiVersion && object.kind === type.kind) return object;
  const shaped = type.codec ? type.codec.fromStorage(object, version) : object;
  return { ...shaped, apiVersion, kind: type.kind };
}

const META_STRINGS = [
  'name',
  'generateName',
  'namespace',
  'uid',
  'resourceVersion',
  'creationTimestamp',
  'deletionTimestamp',
];

function decodeError(field: string, type: string): never {
  throw badRequest(`json: cannot unmarshal into Go struct field ObjectMeta.metadata.${field} of type ${type}`);
}

const isString = (v: unknown): boolean => typeof v === 'string';
const isStringMap = (v: unknown): boolean => isRecord(v) && Object.values(v).every(isString);
const isStringList = (v: unknown): boolean => Array.isArray(v) && v.every(isString);
const isOwnerRefs = (v: unknown): boolean =>
  Array.isArray(v) && v.every((r) => isRecord(r) && ['apiVersion', 'kind', 'name', 'uid'].every((k) => isString(r[k])));

const META_TYPES: Array<[string[], (v: unknown) => boolean, string]> = [
  [META_STRINGS, isString, 'string'],
  [['labels', 'annotations'], isStringMap, 'map[string]string'],
  [['finalizers'], isStringList, '[]string'],
  [['ownerReferences'], isOwnerRefs, '[]v1.OwnerReference'],
];

/** The types ObjectMeta's decoder insists on (400, as a Go decoding error); null means absent. */
function checkMetadataTypes(meta: Record<string, unknown>): void {
  for (const [keys, ok, goType] of META_TYPES) {
    for (const key of keys) {
      if (meta[key] === null) delete meta[key];
      else if (meta[key] !== undefined && !ok(meta[key])) decodeError(key, goType);
    }
  }
}

/** A request body as an object of the type: 400 for anything else. */
export function checkBody(type: ResourceType, version: string, body: unknown): KObject {
  if (!isRecord(body))
    throw badRequest(
      `the body of the request was in an unknown format - accepted media types include: application/json, ` +
        `application/yaml`,
    );
  const expected = apiVersionOf(type.group, version);
  if (body.apiVersion !== undefined && body.apiVersion !== expected) {
    throw badRequest(
      `the API version in the data (${JSON.stringify(body.apiVersion)}) does not match the expected API version ` +
        `(${expected})`,
    );
  }
  if (body.kind !== undefined && body.kind !== type.kind) {
    throw badRequest(
      `the kind in the data (${JSON.stringify(body.kind)}) does not match the expected kind (${type.kind})`,
    );
  }
  if (body.metadata !== undefined && !isRecord(body.metadata)) throw badRequest('metadata must be an object');
  if (isRecord(body.metadata)) checkMetadataTypes(body.metadata);
  const object: KObject = {
    ...body,
    apiVersion: expected,
    kind: type.kind,
    metadata: isRecord(body.metadata) ? { ...body.metadata } : {},
  };
  return type.codec ? type.codec.toStorage(object) : object;
}

/** Everything but metadata (and status when it is a subresource): what `generation` counts. */
function specPart(object: KObject, type: ResourceType): Record<string, unknown> {
  const { metadata: _m, apiVersion: _a, kind: _k, ...rest } = object;
  if (type.status) delete rest.status;
  return rest;
}

/** Built-in kinds compare as their Go values (null, absent and zero alike); custom resources as JSON. */
function equalFor(type: ResourceType): (a: unknown, b: unknown) => boolean {
  return type.builtin ? semanticEqual : jsonEqual;
}

export function specChanged(type: ResourceType, a: KObject, b: KObject): boolean {
  return !equalFor(type)(specPart(a, type), specPart(b, type));
}

/** True when a write would change nothing but resourceVersion (the API server then stores nothing). */
export function sameObject(type: ResourceType, a: KObject, b: KObject): boolean {
  const strip = (o: KObject): KObject => ({
    ...o,
    metadata: { ...o.metadata, resourceVersion: undefined, managedFields: undefined },
  });
  return equalFor(type)(strip(a), strip(b));
}

export function withResourceVersion(object: KObject, rv: number): KObject {
  return { ...object, metadata: { ...object.metadata, resourceVersion: String(rv) } };
}

/** The served version an object was written at (or the type's default). */
export function storedVersion(type: ResourceType, object: KObject): string | undefined {
  const version = (object.apiVersion ?? '').split('/').pop();
  return version && type.versions.includes(version) ? version : undefined;
}

export function sortKey(o: KObject): string {
  return `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;
}

export function hasFinalizers(o: KObject): boolean {
  return (o.metadata.finalizers?.length ?? 0) > 0;
}

/** The continue token of a paged list: the key to start after. */
export function encodeContinue(rv: number, lastKey: string): string {
  return Buffer.from(JSON.stringify({ rv, start: lastKey })).toString('base64url');
}

export function decodeContinue(token: string): { rv: number; start: string } {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString()) as { rv?: unknown; start?: unknown };
    if (typeof parsed.rv === 'number' && typeof parsed.start === 'string')
      return { rv: parsed.rv, start: parsed.start };
  } catch {
    // fall through to the error
  }
  throw badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
}
