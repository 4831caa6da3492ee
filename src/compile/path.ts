/**
 * json-rules-engine's path resolver, as a dot walk: `$.a.b`, `$.list[0]`, `$.error-rate.value`.
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
  let current = value;
  for (const part of segments(path)) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string | number, unknown>)[part];
  }
  return current;
}
