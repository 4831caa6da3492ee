import type { StatusCause } from './status.js';
import { isRecord, type KObject, type OwnerReference } from './types.js';

/** ObjectMeta rules of the API server beyond names and labels: owner references and sizes. */

/** Total size of all annotations (keys and values), as the API server counts it. */
export const MAX_ANNOTATIONS_BYTES = 256 * 1024;
/** A ConfigMap's or Secret's data (etcd's object limit leaves room for metadata). */
export const MAX_DATA_BYTES = 1024 * 1024;
/** etcd's request limit: a stored object above it fails with "request is too large". */
export const MAX_STORED_BYTES = 1.5 * 1024 * 1024;

const tooLong = (field: string, max: number): StatusCause => ({
  reason: 'FieldValueTooLong',
  field,
  message: `Too long: must have at most ${max} bytes`,
});

function refCauses(ref: OwnerReference): StatusCause[] {
  const causes: StatusCause[] = [];
  const need = (key: 'apiVersion' | 'kind' | 'name' | 'uid', what: string): void => {
    if (!ref[key])
      causes.push({
        reason: 'FieldValueInvalid',
        field: `metadata.ownerReferences.${key}`,
        message: `Invalid value: "": ${what} must not be empty`,
      });
  };
  need('apiVersion', 'version');
  need('kind', 'kind');
  need('name', 'name');
  need('uid', 'uid');
  return causes;
}

/** Owner references: each complete, at most one with `controller: true`. */
export function ownerReferenceCauses(object: KObject): StatusCause[] {
  const refs = object.metadata.ownerReferences ?? [];
  const causes = refs.flatMap(refCauses);
  const controllers = refs.filter((r) => r.controller === true);
  if (controllers.length > 1) {
    const names = controllers.map((r) => `${r.kind}/${r.name}`).join(' and ');
    causes.push({
      reason: 'FieldValueInvalid',
      field: 'metadata.ownerReferences',
      message:
        `Invalid value: ${JSON.stringify(refs)}: Only one reference can have Controller set to true. Found ` +
        `"true" in references for ${names}`,
    });
  }
  return causes;
}

export function annotationSizeCauses(object: KObject): StatusCause[] {
  const total = Object.entries(object.metadata.annotations ?? {}).reduce(
    (n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(String(v)),
    0,
  );
  return total > MAX_ANNOTATIONS_BYTES ? [tooLong('metadata.annotations', MAX_ANNOTATIONS_BYTES)] : [];
}

function dataBytes(map: unknown, decode: (v: string) => number): number {
  if (!isRecord(map)) return 0;
  return Object.entries(map).reduce(
    (n, [k, v]) => n + Buffer.byteLength(k) + (typeof v === 'string' ? decode(v) : 0),
    0,
  );
}

/** ConfigMaps (data + binaryData) and Secrets (decoded data) hold at most 1 MiB. */
export function dataSizeCauses(kind: 'ConfigMap' | 'Secret', object: KObject): StatusCause[] {
  const base64 = (v: string): number => Buffer.from(v, 'base64').length;
  if (kind === 'Secret')
    return dataBytes(object.data, base64) > MAX_DATA_BYTES ? [tooLong('data', MAX_DATA_BYTES)] : [];
  const total = dataBytes(object.data, (v) => Buffer.byteLength(v)) + dataBytes(object.binaryData, base64);
  return total > MAX_DATA_BYTES ? [tooLong('[]', MAX_DATA_BYTES)] : [];
}

/** The stored size of an object (its JSON), checked against etcd's limit. */
export function storedBytes(object: KObject): number {
  return Buffer.byteLength(JSON.stringify(object));
}
