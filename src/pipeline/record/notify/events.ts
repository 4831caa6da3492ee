import type { RolloutEvent, CheckReading } from '../../../adapters/notifiers/event.js';
import { stepLabel, type NotificationEvent } from '../../policy/vocabulary.js';
import type { AuditEntry } from '../audit/entry.js';

const EVENT_RULES: Record<string, NotificationEvent> = {
  'canary-started': 'started',
  resumed: 'resumed',
};

function pauseEvent(entry: AuditEntry, first: string | undefined): NotificationEvent {
  if (first === 'metric-unavailable') return 'metricUnavailable';
  return first === 'pause-step' && entry.snapshot?.rollout.soakSeconds === null ? 'awaitingApproval' : 'paused';
}

function rollbackEvent(first: { rule: string; message: string } | undefined): NotificationEvent {
  if (first?.rule === 'metric-unavailable') return 'metricUnavailable';
  if (first?.rule === 'preview-deadline') return 'progressDeadlineExceeded';
  if (first?.rule === 'pod-health' && /progressDeadline/.test(first.message)) return 'progressDeadlineExceeded';
  return 'rolledBack';
}

const DECISION_EVENTS: Partial<Record<string, (entry: AuditEntry) => NotificationEvent>> = {
  advance: () => 'advanced',
  promote: () => 'promoted',
  pause: (entry) => pauseEvent(entry, entry.decision!.reasons[0]?.rule),
  rollback: (entry) => rollbackEvent(entry.decision!.reasons[0]),
};

function decisionEvent(entry: AuditEntry): NotificationEvent | null {
  return DECISION_EVENTS[entry.decision!.action]?.(entry) ?? null;
}

/** Which event an audit entry is, if any: decisions, overrides and the controller events people care about. */
export function eventOf(entry: AuditEntry): NotificationEvent | null {
  if (!entry.decision) return null;
  if (entry.kind === 'decision') return decisionEvent(entry);
  if (entry.kind === 'override') return 'override';
  if (entry.kind === 'event') return EVENT_RULES[entry.decision.reasons[0]?.rule ?? ''] ?? null;
  return null;
}

/** The events `on` selects: `rolledBack` also selects the two that roll back for their own reason. */
export function selects(on: readonly NotificationEvent[] | undefined, event: NotificationEvent): boolean {
  if (!on || on.includes(event)) return true;
  return on.includes('rolledBack') && (event === 'progressDeadlineExceeded' || event === 'metricUnavailable');
}

function readings(entry: AuditEntry): Record<string, CheckReading> {
  const checks = entry.snapshot?.checks ?? {};
  return Object.fromEntries(
    Object.entries(checks).map(([name, c]) => [
      name,
      { status: c.status, value: c.value ?? null, min: c.min ?? null, max: c.max ?? null },
    ]),
  );
}

/** The notification event of an audit entry (null: none), with the entry's action id as its id. */
export function rolloutEventOf(entry: AuditEntry): RolloutEvent | null {
  const name = eventOf(entry);
  if (!name || !entry.decision) return null;
  const rollout = entry.snapshot?.rollout;
  const step = entry.decision.step;
  return {
    type: `kubestead.rollout.${name}`,
    version: 1,
    id: entry.actionId,
    time: entry.time,
    policy: { namespace: entry.policy.namespace, name: entry.policy.name },
    revision: entry.revision,
    step,
    stepLabel: stepLabel(step, rollout?.stepCount),
    weight: rollout?.weight ?? null,
    reasons: entry.decision.reasons.map((r) => ({ ...r })),
    checks: readings(entry),
    actor: entry.actor,
  };
}
