/**
 * json-rules-engine's path resolver, as a dot walk: `$.a.b`, `$.list[0]`, `$.error-rate.value`,
 * and `*` for every value of a map or list (`$.*.status` is the status of every check).
 * The default JSONPath resolver costs about three times as much per run.
 */
const segmentsByPath = new Map<string, (string | number)[]>();

function segments(path: string): (string | number)[] {
  let parts = segmentsByPath.get(path);
  if (!parts) {
    parts = path
      .replace(/^\$\.?/, '')
      .split(/\.|\[(\d+)\]/)
      .filter((p): p is string => p !== undefined && p !== '')
      .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
    // Paths come from compiled policies; bound the map anyway so odd input cannot grow it forever.
    if (segmentsByPath.size > 10_000) segmentsByPath.clear();
    segmentsByPath.set(path, parts);
  }
  return parts;
}

export function resolvePath(value: unknown, path: string): unknown {
  return walk(value, segments(path), 0);
}

function walk(value: unknown, parts: (string | number)[], from: number): unknown {
  let current = value;
  for (let i = from; i < parts.length; i++) {
    if (current === null || typeof current !== 'object') return undefined;
    const part = parts[i] as string | number;
    if (part === '*') return Object.values(current).map((item) => walk(item, parts, i + 1));
    current = (current as Record<string | number, unknown>)[part];
  }
  return current;
}
