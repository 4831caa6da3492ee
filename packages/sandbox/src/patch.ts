import { ApiError, badRequest, failure } from './status.js';
import { clone, isRecord, jsonEqual } from './types.js';

export type PatchType = 'merge' | 'json' | 'strategic' | 'apply';

const CONTENT_TYPES: Record<string, PatchType> = {
  'application/merge-patch+json': 'merge',
  'application/json-patch+json': 'json',
  'application/strategic-merge-patch+json': 'strategic',
  'application/apply-patch+yaml': 'apply',
};

export function patchTypeOf(contentType: string | undefined): PatchType | undefined {
  return CONTENT_TYPES[(contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? ''];
}

/** 422 as the API server answers a patch that does not apply. */
export function patchFailed(message: string): ApiError {
  return new ApiError(
    failure(422, 'Invalid', `the server rejected our request due to an error in our request: ${message}`, {
      causes: [{ reason: 'FieldValueInvalid', message }],
    }),
  );
}

/** RFC 7386 JSON merge patch: objects merge, null deletes, everything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isRecord(patch)) return clone(patch);
  const result: Record<string, unknown> = isRecord(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

function unescapePointer(token: string): string {
  return token.replace(/~1/g, '/').replace(/~0/g, '~');
}

function parsePointer(path: unknown): string[] {
  if (typeof path !== 'string' || (path !== '' && !path.startsWith('/')))
    throw badRequest(`invalid JSON pointer: ${String(path)}`);
  return path === '' ? [] : path.slice(1).split('/').map(unescapePointer);
}

type Container = Record<string, unknown> | unknown[];

/** The parent container of a pointer and the last token; throws when the parent is missing. */
function locate(doc: unknown, tokens: string[], op: string): { parent: Container; key: string } {
  let current = doc;
  for (const token of tokens.slice(0, -1)) {
    const next: unknown = Array.isArray(current)
      ? current[Number(token)]
      : isRecord(current)
        ? current[token]
        : undefined;
    if (next === undefined)
      throw patchFailed(`${op} operation does not apply: doc is missing path: /${tokens.join('/')}`);
    current = next;
  }
  if (!Array.isArray(current) && !isRecord(current))
    throw patchFailed(`${op} operation does not apply: doc is missing path: /${tokens.join('/')}`);
  return { parent: current, key: tokens[tokens.length - 1] ?? '' };
}

function arrayIndex(arr: unknown[], key: string, forInsert: boolean, op: string): number {
  if (forInsert && key === '-') return arr.length;
  const index = Number(key);
  const max = forInsert ? arr.length : arr.length - 1;
  if (!/^(0|[1-9][0-9]*)$/.test(key) || index > max)
    throw patchFailed(`${op} operation does not apply: index out of bounds: ${key}`);
  return index;
}

function readAt(doc: unknown, tokens: string[], op: string): unknown {
  if (tokens.length === 0) return doc;
  const { parent, key } = locate(doc, tokens, op);
  const value = Array.isArray(parent) ? parent[arrayIndex(parent, key, false, op)] : parent[key];
  if (value === undefined)
    throw patchFailed(`${op} operation does not apply: doc is missing key: /${tokens.join('/')}`);
  return value;
}

function removeAt(doc: unknown, tokens: string[], op: string): unknown {
  const { parent, key } = locate(doc, tokens, op);
  if (Array.isArray(parent)) return parent.splice(arrayIndex(parent, key, false, op), 1)[0];
  if (!(key in parent)) throw patchFailed(`${op} operation does not apply: doc is missing key: /${tokens.join('/')}`);
  const value = parent[key];
  delete parent[key];
  return value;
}

function addAt(doc: unknown, tokens: string[], value: unknown, op: string): unknown {
  if (tokens.length === 0) return value;
  const { parent, key } = locate(doc, tokens, op);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, true, op), 0, value);
  else parent[key] = value;
  return doc;
}

interface JsonPatchOp {
  op: string;
  path: string;
  from?: string;
  value?: unknown;
}

function applyOne(doc: unknown, step: JsonPatchOp): unknown {
  const path = parsePointer(step.path);
  switch (step.op) {
    case 'add':
      return addAt(doc, path, clone(step.value), 'add');
    case 'remove':
      removeAt(doc, path, 'remove');
      return doc;
    case 'replace':
      return replaceAt(doc, path, clone(step.value));
    case 'move':
      return addAt(doc, path, removeAt(doc, parsePointer(step.from), 'move'), 'move');
    case 'copy':
      return addAt(doc, path, clone(readAt(doc, parsePointer(step.from), 'copy')), 'copy');
    case 'test':
      if (!jsonEqual(readAt(doc, path, 'test'), step.value)) throw patchFailed(`testing value ${step.path} failed`);
      return doc;
    default:
      throw badRequest(`Unexpected kind: ${step.op}`);
  }
}

function replaceAt(doc: unknown, tokens: string[], value: unknown): unknown {
  if (tokens.length === 0) return value;
  readAt(doc, tokens, 'replace');
  const { parent, key } = locate(doc, tokens, 'replace');
  if (Array.isArray(parent)) parent[Number(key)] = value;
  else parent[key] = value;
  return doc;
}

/** RFC 6902 JSON patch; the document is copied first, so a failing patch changes nothing. */
export function jsonPatch(target: unknown, patch: unknown): unknown {
  if (!Array.isArray(patch)) throw badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  let doc = clone(target);
  for (const step of patch) {
    if (!isRecord(step) || typeof step.op !== 'string') throw badRequest('invalid JSON patch operation: missing op');
    doc = applyOne(doc, step as unknown as JsonPatchOp);
  }
  return doc;
}
