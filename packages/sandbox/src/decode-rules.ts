import type { ResourceType } from './registry.js';
import { badRequest } from './status.js';
import { getPath, isRecord, type KObject } from './types.js';

/**
 * What the API server's decoder refuses (400, before any validation): MicroTime fields without
 * exactly six fractional digits, and resource quantities that do not parse.
 */

const MICRO_LAYOUT = '2006-01-02T15:04:05.000000Z07:00';
const MICRO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;
const QUANTITY = /^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$/;

/** MicroTime fields by kind (group/Kind), as stored. */
const MICRO_TIME_FIELDS: Record<string, string[]> = {
  'coordination.k8s.io/Lease': ['spec.acquireTime', 'spec.renewTime'],
  '/Event': ['eventTime', 'series.lastObservedTime'],
  'events.k8s.io/Event': ['eventTime', 'series.lastObservedTime'],
};

function cannotDecode(type: ResourceType, version: string, why: string): never {
  throw badRequest(`${type.kind} in version "${version}" cannot be handled as a ${type.kind}: ${why}`);
}

/** Go's time.Parse with the RFC3339Micro layout: the fraction must have six digits. */
function microTimeError(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value !== 'string') return `parsing time ${JSON.stringify(value)} as "${MICRO_LAYOUT}": not a string`;
  const parsed = MICRO_TIME.exec(value);
  if (!parsed)
    return (
      `parsing time ${JSON.stringify(value)} as "${MICRO_LAYOUT}": cannot parse ${JSON.stringify(value)} ` + 'as "2006"'
    );
  const fraction = parsed[1] ?? '';
  if (fraction.length === 7) return undefined;
  return (
    `parsing time ${JSON.stringify(value)} as "${MICRO_LAYOUT}": cannot parse ` +
    `${JSON.stringify(`${fraction}${parsed[2] ?? ''}`)} as ".000000"`
  );
}

function podSpecsOf(object: KObject): unknown[] {
  if (object.kind === 'Pod') return [object.spec];
  return [getPath(object, 'spec.template.spec')];
}

function badQuantity(podSpec: unknown): boolean {
  if (!isRecord(podSpec)) return false;
  const containers = [podSpec.containers, podSpec.initContainers].flatMap((list): unknown[] =>
    Array.isArray(list) ? list : [],
  );
  return containers.some((c) => {
    const resources = isRecord(c) && isRecord(c.resources) ? c.resources : {};
    return [resources.limits, resources.requests].some(
      (m) =>
        isRecord(m) &&
        Object.values(m).some((q) => !(typeof q === 'number' || (typeof q === 'string' && QUANTITY.test(q)))),
    );
  });
}

/** 400 for what the decoder of the request's version refuses. */
export function checkDecodable(type: ResourceType, version: string, object: KObject): void {
  for (const path of MICRO_TIME_FIELDS[`${type.group}/${type.kind}`] ?? []) {
    const why = microTimeError(getPath(object, path));
    if (why) cannotDecode(type, version, why);
  }
  if (type.builtin && podSpecsOf(object).some(badQuantity)) {
    cannotDecode(type, version, `quantities must match the regular expression '${QUANTITY.source}'`);
  }
}
