import type { CheckFacts, FactSnapshot } from '../facts/snapshot.js';
import { checkQueryText, comparisonOf, type Comparison, type ComparisonFacts } from '../policy/compare.js';
import type { CheckSpec, PolicySpec } from '../policy/schema.js';
import { stepCount } from '../policy/strategies.js';
import { stepFacts } from './consistency.js';

export const DEFAULT_TIME = '2026-01-01T00:00:00Z';

/**
 * A healthy snapshot of a policy (documented in docs/policy-tests.md): the rollout at `step` (clamped
 * to the policy's steps) that has just started it (the canary one ready pod; blue-green's new version at primary's full
 * count, all ready), every check of the policy `ok` with a passing
 * value (in bounds, outside its inconclusive band; a comparison: canary and primary alike), no events and no override. Inline test facts merge onto it; `kubestead query` judges one
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
      canary: { ...healthyCanary(spec), restarts: 0 },
      stable: { ...FULL_COUNT },
    },
    checks: Object.fromEntries(spec.checks.map((c) => [c.name, healthyMeasurement(c)])),
    derived: {},
    kube: { warningEvents: 0, reasons: {} },
    override: null,
  };
}

/** Primary's count in the default snapshot. */
const FULL_COUNT = { desiredReplicas: 4, readyReplicas: 4 };

/** A healthy canary: one ready pod, or blue-green's new version at primary's full count, every pod ready. */
const healthyCanary = (spec: PolicySpec) => (spec.blueGreen ? FULL_COUNT : { desiredReplicas: 1, readyReplicas: 1 });

/** A check's healthy measurement: an in-bounds value, or a comparison that finds no difference. */
function healthyMeasurement(check: CheckSpec): CheckFacts {
  const comparison = comparisonOf(check);
  const base = {
    status: 'ok' as const,
    value: comparison ? 0 : inBounds(check.inconclusive?.min ?? check.min, check.inconclusive?.max ?? check.max),
    min: check.min ?? null,
    max: check.max ?? null,
    provider: check.provider,
    query: checkQueryText(check),
    observedAt: DEFAULT_TIME,
  };
  return comparison ? { ...base, comparison: sameAsPrimary(comparison) } : base;
}

/** Two samples of minSamples equal values: U at its centre, p = 1, no shift. */
function sameAsPrimary(comparison: Comparison): ComparisonFacts {
  const n = comparison.minSamples;
  return {
    u: (n * n) / 2,
    pValue: 1,
    effectSize: 0,
    shift: 0,
    canaryMedian: 1,
    primaryMedian: 1,
    direction: comparison.direction,
    method: 'asymptotic',
    sampleSizes: { canary: n, primary: n },
  };
}

/**
 * A healthy value: the middle of two bounds, 0 under a lone max ≥ 0, else the bound itself (in bounds). The bounds of
 * a passing value: a check's inconclusive band where it has one.
 */
function inBounds(min: number | undefined, max: number | undefined): number {
  if (min !== undefined && max !== undefined) return (min + max) / 2;
  if (max !== undefined) return Math.min(0, max);
  return min ?? 0;
}
