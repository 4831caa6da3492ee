import type { FactSnapshot } from '../facts/snapshot.js';
import type { PolicySpec } from '../policy/schema.js';
import { stepCount } from '../facts/steps.js';
import { stepFacts } from './consistency.js';

export const DEFAULT_TIME = '2026-01-01T00:00:00Z';

/**
 * A healthy snapshot of a policy (documented in docs/policy-tests.md): the rollout at `step` (clamped
 * to the policy's steps) that has just started it, every check of the policy `ok` with an in-bounds
 * value, no events and no override. Inline test facts merge onto it; `kubestead query` judges one
 * measurement in it; `kubestead test --print-default-snapshot` prints it.
 */
export function defaultSnapshot(spec: PolicySpec, step: number): FactSnapshot {
  const count = stepCount(spec);
  const index = Math.min(Math.max(0, step), count - 1);
  return {
    version: 1,
    time: DEFAULT_TIME,
    rollout: {
      phase: 'Progressing',
      step: index,
      stepCount: count,
      manualPause: false,
      ...stepFacts(spec, index),
      stepElapsedSeconds: 0,
      canary: { desiredReplicas: 1, readyReplicas: 1, restarts: 0 },
      stable: { desiredReplicas: 4, readyReplicas: 4 },
    },
    checks: Object.fromEntries(
      spec.checks.map((c) => [
        c.name,
        {
          status: 'ok' as const,
          value: inBounds(c.min, c.max),
          min: c.min ?? null,
          max: c.max ?? null,
          provider: c.provider,
          query: c.query,
          observedAt: DEFAULT_TIME,
        },
      ]),
    ),
    derived: {},
    kube: { warningEvents: 0, reasons: {} },
    override: null,
  };
}

/** A healthy value: the middle of two bounds, 0 under a lone max ≥ 0, else the bound itself (in bounds). */
function inBounds(min: number | undefined, max: number | undefined): number {
  if (min !== undefined && max !== undefined) return (min + max) / 2;
  if (max !== undefined) return Math.min(0, max);
  return min ?? 0;
}
