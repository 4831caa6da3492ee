import { badRequest } from './status.js';
import { clone, isRecord } from './types.js';

/**
 * Strategic merge patch for the built-in kinds: lists named here merge by their key (as the
 * `patchMergeKey` tags of k8s.io/api say); other lists replace. Directives: `$patch`
 * (replace/delete/merge), `$retainKeys`, `$setElementOrder/…`, `$deleteFromPrimitiveList/…`.
 */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  imagePullSecrets: 'name',
  hostAliases: 'ip',
  conditions: 'type',
  ownerReferences: 'uid',
  topologySpreadConstraints: 'topologyKey',
  resourceClaims: 'name',
};

/** Lists of scalars that merge as sets. */
const PRIMITIVE_MERGE = new Set(['finalizers']);

type Obj = Record<string, unknown>;

function mergeKeyFor(field: string, sample: unknown): string | undefined {
  if (field === 'ports') return isRecord(sample) && 'containerPort' in sample ? 'containerPort' : 'port';
  return MERGE_KEYS[field];
}

function isDirective(key: string): boolean {
  return key.startsWith('$');
}

/** Removes every directive key, deeply: what remains is plain data. */
function strip(value: unknown): unknown {
  if (Array.isArray(value)) return value.filter((v) => !(isRecord(v) && v.$patch === 'delete')).map(strip);
  if (!isRecord(value)) return value;
  const out: Obj = {};
  for (const [k, v] of Object.entries(value)) if (!isDirective(k) && v !== null) out[k] = strip(v);
  return out;
}

function mergeKeyedList(orig: unknown[], patch: unknown[], key: string): unknown[] {
  const result = orig.map((x) => x);
  for (const el of patch) {
    if (!isRecord(el))
      throw badRequest(`unable to find api field in struct for the list element ${JSON.stringify(el)}`);
    const index = result.findIndex((o) => isRecord(o) && o[key] === el[key]);
    if (el.$patch === 'delete') {
      if (index >= 0) result.splice(index, 1);
    } else if (index >= 0) {
      result[index] = mergeMap(result[index] as Obj, el);
    } else {
      result.push(strip(el));
    }
  }
  return result;
}

function mergeList(field: string, orig: unknown, patch: unknown[]): unknown[] {
  if (patch.some((el) => isRecord(el) && el.$patch === 'replace'))
    return patch.filter((el) => !(isRecord(el) && el.$patch === 'replace')).map(strip);
  const current: unknown[] = Array.isArray(orig) ? (orig as unknown[]) : [];
  if (PRIMITIVE_MERGE.has(field)) return [...current, ...patch.filter((v) => !current.includes(v))];
  const key = mergeKeyFor(field, patch[0] ?? current[0]);
  return key ? mergeKeyedList(current, patch, key) : patch.map(strip);
}

function setElementOrder(value: unknown, order: unknown[], field: string): unknown {
  if (!Array.isArray(value)) return value;
  const list = value as unknown[];
  const key = mergeKeyFor(field, order[0]);
  const id = (x: unknown): unknown => (key && isRecord(x) ? x[key] : x);
  const wanted = order.map(id);
  const rank = (x: unknown): number => {
    const i = wanted.indexOf(id(x));
    return i < 0 ? wanted.length : i;
  };
  return [...list].sort((a, b) => rank(a) - rank(b));
}

function applyDirectives(result: Obj, patch: Obj): void {
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith('$deleteFromPrimitiveList/')) {
      const field = key.slice('$deleteFromPrimitiveList/'.length);
      const drop = Array.isArray(value) ? value : [];
      if (Array.isArray(result[field])) result[field] = (result[field] as unknown[]).filter((v) => !drop.includes(v));
    } else if (key.startsWith('$setElementOrder/') && Array.isArray(value)) {
      const field = key.slice('$setElementOrder/'.length);
      result[field] = setElementOrder(result[field], value, field);
    }
  }
  if (Array.isArray(patch.$retainKeys)) {
    const keep = patch.$retainKeys as unknown[];
    for (const k of Object.keys(result)) if (!keep.includes(k)) delete result[k];
  }
}

function mergeMap(orig: Obj, patch: Obj): Obj {
  if (patch.$patch === 'replace') return strip(patch) as Obj;
  const result: Obj = { ...orig };
  for (const [key, value] of Object.entries(patch)) {
    if (isDirective(key)) continue;
    if (value === null) delete result[key];
    else if (isRecord(value) && value.$patch === 'delete') delete result[key];
    else if (isRecord(value)) result[key] = mergeMap(isRecord(result[key]) ? result[key] : {}, value);
    else if (Array.isArray(value)) result[key] = mergeList(key, result[key], value);
    else result[key] = value;
  }
  applyDirectives(result, patch);
  return result;
}

/** Applies a strategic merge patch to a copy of `target`. */
export function strategicMergePatch(target: unknown, patch: unknown): unknown {
  if (!isRecord(patch)) throw badRequest('strategic merge patch must be a JSON object');
  if (patch.$patch !== undefined && patch.$patch !== 'replace' && patch.$patch !== 'merge') {
    throw badRequest(`Unknown patch type: ${JSON.stringify(patch.$patch)}`);
  }
  return mergeMap(isRecord(target) ? clone(target) : {}, patch);
}
