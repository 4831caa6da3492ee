import { closest } from './strict.js';

/**
 * The shape of a FactSnapshot (docs/architecture.md, "FactSnapshot v1") as far as a path into it can be checked: a
 * leaf, a map
 * of known fields, the policy's checks or derived names, or anything (a map of any keys). A test
 * keeps it equal to the zod schema of src/pipeline/facts/snapshot.ts.
 */
export type FactShape = 'leaf' | 'any' | 'checks' | 'derived' | { readonly [field: string]: FactShape };

const leaves = (...names: string[]): Record<string, FactShape> =>
  Object.fromEntries(names.map((n) => [n, 'leaf' as const]));

/** A measurement's fields (the snapshot's and the audit fields a gatherer may add). */
export const MEASUREMENT_SHAPE: Record<string, FactShape> = {
  ...leaves('status', 'value', 'min', 'max', 'provider', 'query', 'observedAt', 'error', 'latencyMs', 'shape'),
  ...leaves('verdict', 'consecutiveFailures'),
  warnings: 'any',
  raw: 'any',
  comparison: {
    ...leaves('u', 'pValue', 'effectSize', 'shift', 'canaryMedian', 'primaryMedian', 'direction', 'method'),
    sampleSizes: leaves('canary', 'primary'),
  },
};

export const SNAPSHOT_SHAPE: Record<string, FactShape> = {
  ...leaves('version', 'time', 'override'),
  rollout: {
    ...leaves('phase', 'step', 'stepCount', 'manualPause', 'stepKind', 'weight', 'stepElapsedSeconds', 'soakSeconds'),
    ...leaves('inconclusiveAccepted', 'previewElapsedSeconds', 'weightGiven'),
    match: 'any',
    mirror: 'leaf',
    canary: leaves('desiredReplicas', 'readyReplicas', 'restarts'),
    stable: leaves('desiredReplicas', 'readyReplicas'),
  },
  checks: 'checks',
  derived: 'derived',
  kube: { warningEvents: 'leaf', reasons: 'any' },
  webhooks: 'any',
  window: leaves('frozen', 'reason', 'opensAt'),
  revert: leaves('known', 'revision', 'promotionsAgo'),
};

/** The names a policy gives the snapshot: its checks and its derived facts. */
export interface PolicyNames {
  checks: readonly string[];
  derived: readonly string[];
}

/** Why a path (segments from the snapshot's root; `*` for every key) reads nothing, or null when it may. */
export function factPathProblem(segments: readonly string[], names: PolicyNames): string | null {
  let shape: FactShape = SNAPSHOT_SHAPE;
  for (const [index, segment] of segments.entries()) {
    const step = stepInto(shape, segment, segments.slice(0, index).join('.'), names);
    if (typeof step === 'string') return step;
    if (step === null) return null;
    shape = step.shape;
  }
  return null;
}

/** One step down a shape: the child's shape, null when anything may follow, or why there is nothing. */
function stepInto(
  shape: FactShape,
  segment: string,
  at: string,
  names: PolicyNames,
): { shape: FactShape } | string | null {
  if (shape === 'any') return null;
  if (shape === 'leaf') return `${at} has no field "${segment}"`;
  if (shape === 'checks' || shape === 'derived') {
    const known = names[shape];
    if (segment !== '*' && !known.includes(segment))
      return unknownName(shape === 'checks' ? 'check' : 'derived fact', segment, known);
    return { shape: shape === 'checks' ? MEASUREMENT_SHAPE : 'any' };
  }
  if (segment === '*') return null;
  const next: FactShape | undefined = Object.hasOwn(shape, segment) ? shape[segment] : undefined;
  return next === undefined ? unknownField(at, segment, Object.keys(shape)) : { shape: next };
}

function unknownName(what: string, name: string, known: readonly string[]): string {
  const hint = closest(name, known);
  const list = known.length ? `; the policy's are ${known.join(', ')}` : '; the policy has none';
  return `no ${what} "${name}"${hint ? ` (did you mean "${hint}"?)` : list}`;
}

function unknownField(at: string, field: string, known: readonly string[]): string {
  const hint = closest(field, known);
  const where = at ? `${at} has no field` : 'the snapshot has no field';
  return `${where} "${field}"${hint ? ` (did you mean "${hint}"?)` : `; it has ${known.join(', ')}`}`;
}
