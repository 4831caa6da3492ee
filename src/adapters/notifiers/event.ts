import { stepLabel, type NotificationEvent } from '../../pipeline/policy/vocabulary.js';

/** One check as a notification shows it: its reading against its bounds. */
export interface CheckReading {
  status: string;
  value: number | null;
  min: number | null;
  max: number | null;
}

/**
 * The event a destination is sent (the generic webhook's body, version 1; docs/notifications.md). `id` is the
 * action id of the audit entry it comes from: the same action always gives the same id.
 */
export interface RolloutEvent {
  type: `kubestead.rollout.${NotificationEvent}`;
  version: 1;
  id: string;
  time: string;
  policy: { namespace: string; name: string };
  revision: string | null;
  /** The 0-based step index (data), and as people read it (`2/3`). */
  step: number;
  stepLabel: string;
  weight: number | null;
  reasons: { rule: string; check?: string; message: string }[];
  checks: Record<string, CheckReading>;
  actor: string | null;
}

/** The event's name without its prefix: `rolledBack`. */
export const eventName = (event: Pick<RolloutEvent, 'type'>): NotificationEvent =>
  event.type.slice('kubestead.rollout.'.length) as NotificationEvent;

const HEADLINES: Record<NotificationEvent, string> = {
  started: 'canary started',
  advanced: 'advanced',
  paused: 'paused',
  awaitingApproval: 'awaiting approval',
  resumed: 'resumed',
  promoted: 'promoted',
  rolledBack: 'rolled back',
  override: 'overridden',
  progressDeadlineExceeded: 'rolled back: progress deadline exceeded',
  metricUnavailable: 'metric unavailable',
  auditDegraded: 'audit trail degraded',
};

/** `rolled back` for `kubestead.rollout.rolledBack`. */
export const headline = (event: RolloutEvent): string => HEADLINES[eventName(event)];

/** `0.034 (max 0.01)`, `0.97 (min 0.9)`, `unavailable`. */
export function readingText(reading: CheckReading): string {
  if (reading.status !== 'ok' || reading.value === null) return 'unavailable';
  const bounds = [
    ...(reading.min !== null ? [`min ${reading.min}`] : []),
    ...(reading.max !== null ? [`max ${reading.max}`] : []),
  ];
  return bounds.length ? `${reading.value} (${bounds.join(', ')})` : String(reading.value);
}

/** Whether a reading is outside its bounds. */
export const breached = (r: CheckReading): boolean =>
  r.status === 'ok' && r.value !== null && ((r.max !== null && r.value > r.max) || (r.min !== null && r.value < r.min));

/**
 * The default text: the policy, the outcome, the step and weight, why, and each check against its bounds, e.g.
 * `shop/checkout rolled back at step 1/3 (weight 10%): error-rate = 0.034 is above max 0.01 · error-rate 0.034 (max 0.01)`.
 */
export function defaultText(event: RolloutEvent): string {
  const where = `${event.policy.namespace}/${event.policy.name}`;
  const weight = event.weight === null ? '' : ` (weight ${event.weight}%)`;
  const by = event.actor ? ` by ${event.actor}` : '';
  const why = event.reasons.map((r) => r.message).filter(Boolean);
  const checks = Object.entries(event.checks).map(([name, r]) => `${name} ${readingText(r)}`);
  return [
    `${where} ${headline(event)}${by} at step ${event.stepLabel}${weight}`,
    ...(why.length ? [why.join('; ')] : []),
    ...(checks.length ? [checks.join(', ')] : []),
  ].join(' · ');
}

export { stepLabel };
