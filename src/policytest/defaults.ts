import type { FactSnapshot } from '../facts/snapshot.js';
import { parseDuration } from '../policy/duration.js';
import type { PolicySpec } from '../policy/schema.js';

/** Default soak of a weight step (DESIGN.md §3). */
export const DEFAULT_SOAK_SECONDS = 300;
export const DEFAULT_TIME = '2026-01-01T00:00:00Z';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The snapshot an inline partial one is merged over (documented in docs/policy-tests.md):
 * a healthy rollout at the partial's `rollout.step` (default 0) that has just started it,
 * every check of the policy `ok` with an in-bounds value, no events and no override.
 */
export function defaultSnapshot(spec: PolicySpec, step: number): FactSnapshot {
  const index = Math.min(Math.max(0, step), spec.steps.length - 1);
  const current = spec.steps[index];
  const pause = current?.pause;
  return {
    version: 1,
    time: DEFAULT_TIME,
    rollout: {
      phase: 'Progressing', step: index, stepCount: spec.steps.length, manualPause: false,
      stepKind: pause ? 'pause' : 'weight',
      weight: weightAt(spec, index),
      stepElapsedSeconds: 0,
      soakSeconds: pause ? (pause.duration ? parseDuration(pause.duration) : null) : parseDuration(current?.soak ?? '5m'),
      canary: { desiredReplicas: 1, readyReplicas: 1, restarts: 0 },
      stable: { desiredReplicas: 4, readyReplicas: 4 },
    },
    checks: Object.fromEntries(spec.checks.map((c) => [c.name, {
      status: 'ok' as const, value: inBounds(c.min, c.max), min: c.min ?? null, max: c.max ?? null,
      provider: c.provider, query: c.query, observedAt: DEFAULT_TIME,
    }])),
    derived: {},
    kube: { warningEvents: 0, reasons: {} },
    override: null,
  };
}

/** The traffic weight at a step: its own, or the last weight step's before a pause. */
function weightAt(spec: PolicySpec, index: number): number {
  for (let i = index; i >= 0; i--) {
    const weight = spec.steps[i]?.weight;
    if (weight !== undefined) return weight;
  }
  return 0;
}

/** A healthy value: the middle of two bounds, 0 under a lone max ≥ 0, else the bound itself (in bounds). */
function inBounds(min: number | undefined, max: number | undefined): number {
  if (min !== undefined && max !== undefined) return (min + max) / 2;
  if (max !== undefined) return Math.min(0, max);
  return min ?? 0;
}

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
