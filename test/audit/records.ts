import type { Action } from '../../src/pipeline/policy/vocabulary.js';
import type { FactSnapshot } from '../../src/pipeline/facts/snapshot.js';
import type { DecisionRecord, PolicyRef } from '../../src/pipeline/record/recorder.js';
import { draftOf, entryLine, sealEntry, type AuditEntry } from '../../src/pipeline/record/audit/entry.js';

export const POLICY: PolicyRef = {
  namespace: 'shop',
  name: 'checkout',
  uid: '6f1c2a9e-0000-4000-8000-000000000001',
  generation: 3,
};

/** A snapshot at step `step` with the error-rate and apdex values given. */
export function snapshotAt(step: number, time: string, errorRate: number, apdex = 0.95): FactSnapshot {
  return {
    version: 1,
    time,
    rollout: {
      phase: 'Progressing',
      step,
      stepCount: 4,
      manualPause: false,
      stepKind: 'weight',
      weight: [5, 25, 50, 75][step] ?? 5,
      stepElapsedSeconds: 300,
      soakSeconds: 300,
      canary: { desiredReplicas: 1, readyReplicas: 1, restarts: 0 },
      stable: { desiredReplicas: 4, readyReplicas: 4 },
    },
    checks: {
      'error-rate': {
        status: 'ok',
        value: errorRate,
        min: null,
        max: 0.01,
        provider: 'prom',
        query: 'sum(rate(http_requests_total{code=~"5.."}[2m]))',
        observedAt: time,
      },
      apdex: {
        status: 'ok',
        value: apdex,
        min: 0.9,
        max: null,
        provider: 'nr',
        query: 'SELECT apdex(duration, t: 0.4) FROM Transaction',
        observedAt: time,
      },
    },
    derived: {},
    kube: { warningEvents: 0, reasons: {} },
    override: null,
  };
}

/** A decision record for `action` at `step`. */
export function recordOf(
  action: Action,
  step: number,
  minute: number,
  options: Partial<DecisionRecord> = {},
): DecisionRecord {
  const time = new Date(Date.UTC(2026, 10, 26, 10, minute)).toISOString();
  const errorRate = action === 'rollback' ? 0.034 : 0.002 + step / 1000;
  return {
    kind: 'decision',
    time,
    policy: POLICY,
    revision: 'rev-b',
    decision: {
      action,
      step,
      nextStep: action === 'advance' ? step + 1 : null,
      reasons:
        action === 'rollback'
          ? [{ rule: 'check-breach', check: 'error-rate', message: `error-rate = ${errorRate} is above max 0.01` }]
          : [{ rule: 'soak-elapsed', message: 'soak of 300s elapsed, all checks in bounds' }],
    },
    snapshot: snapshotAt(step, time, errorRate),
    message: `${action} at step ${step}`,
    controller: 'kubestead-7d9f-abcde',
    ...options,
  };
}

/** A sealed chain of `count` entries (advances, then a rollback), as entries and as its export text. */
export function chainOf(count: number): { entries: AuditEntry[]; text: string } {
  const entries: AuditEntry[] = [];
  for (let i = 0; i < count; i += 1) {
    const record = recordOf(i === count - 1 ? 'rollback' : 'advance', i % 4, i);
    entries.push(sealEntry(draftOf(record, false), entries.at(-1) ?? null, record.time));
  }
  return { entries, text: `${entries.map(entryLine).join('\n')}\n` };
}
