import { isDeepStrictEqual } from 'node:util';
import type { PolicyStatus } from '../../pipeline/policy/status.js';

/**
 * RolloutPolicy status as the tick reads and writes it (docs/architecture.md, "The policy" plus the documented
 * extensions).
 */
export type RolloutStatus = PolicyStatus;
export type Condition = NonNullable<PolicyStatus['conditions']>[number];
export type ConditionType =
  'Ready' | 'Progressing' | 'Degraded' | 'AuditHealthy' | 'Frozen' | 'NotificationsDegraded' | 'Stale';

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The status of a policy object as written (a copy; an absent or malformed status reads as empty). */
export function readStatus(raw: unknown): RolloutStatus {
  return isObject(raw) ? structuredClone(raw) : {};
}

/**
 * Sets a condition, keeping its lastTransitionTime when its status does not change (the
 * Kubernetes convention), so that a tick that changes nothing writes nothing.
 */
export function setCondition(
  status: RolloutStatus,
  condition: Omit<Condition, 'lastTransitionTime'>,
  now: string,
): void {
  const conditions = status.conditions ?? [];
  const existing = conditions.find((c) => c.type === condition.type);
  const lastTransitionTime = existing && existing.status === condition.status ? existing.lastTransitionTime : now;
  const next = { ...condition, lastTransitionTime };
  status.conditions = existing ? conditions.map((c) => (c === existing ? next : c)) : [...conditions, next];
}

export function conditionOf(status: RolloutStatus, type: ConditionType): Condition | undefined {
  return status.conditions?.find((c) => c.type === type);
}

/** True when two statuses are the same (key order aside; both compacted: no undefined fields). */
export function sameStatus(a: RolloutStatus, b: RolloutStatus): boolean {
  return isDeepStrictEqual(a, b);
}

/** Removes fields set to undefined (a PUT must not carry them; JSON would drop them anyway). */
export function compact(status: RolloutStatus): RolloutStatus {
  return JSON.parse(JSON.stringify(status)) as RolloutStatus;
}
