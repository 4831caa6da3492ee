import type { FactSnapshot } from '../../pipeline/facts/snapshot.js';
import { isObj, type Obj } from '../../pipeline/policy/objects.js';

export { defaultSnapshot, DEFAULT_TIME } from '../../pipeline/decide/default-snapshot.js';

/**
 * Deep-merges a partial snapshot over the default. Maps merge key by key; anything else
 * replaces. A check set to null is removed (it then counts as unavailable: "no measurement"),
 * and a check set to `status: unavailable` without a value gets value null.
 */
export function mergeSnapshot(base: FactSnapshot, partial: Obj): unknown {
  const merged = deepMerge(base, partial) as Obj;
  const checks = isObj(merged.checks) ? merged.checks : {};
  const partialChecks = isObj(partial.checks) ? partial.checks : {};
  for (const [name, entry] of Object.entries(partialChecks)) {
    if (entry === null) delete checks[name];
    else if (isObj(entry) && entry.status === 'unavailable' && !('value' in entry) && isObj(checks[name])) {
      checks[name] = { ...checks[name], value: null };
    }
  }
  return merged;
}

function deepMerge(base: unknown, over: unknown): unknown {
  if (!isObj(base) || !isObj(over)) return over === undefined ? base : over;
  const result: Obj = { ...base };
  for (const [key, value] of Object.entries(over)) result[key] = deepMerge(base[key], value);
  return result;
}
