/**
 * The words every part of Kubestead shares: what a decision can do, the phases of a rollout and the
 * overrides a person can give. A leaf module (it imports nothing), so that the policy schema, the
 * snapshot, decide and the controller can all use it without import cycles between their folders.
 */

/** docs/decisions.md, "Precedence". */
export const ACTIONS = ['hold', 'advance', 'promote', 'pause', 'rollback'] as const;
export type Action = (typeof ACTIONS)[number];

/** The actions a custom rule (`then`) and `onMetricUnavailable` may take. */
export const RULE_ACTIONS = ['hold', 'pause', 'rollback'] as const satisfies readonly Action[];
export type RuleAction = (typeof RULE_ACTIONS)[number];

/**
 * Every rule name a built-in rule can give a reason (rules/, in precedence order, and the two decide
 * gives outside the engine): a custom rule may not take one. The compiler checks, as it loads
 * rules/, that its templates give exactly these.
 */
export const BUILTIN_RULES = [
  'override-abort',
  'check-breach',
  'webhook-failed',
  'webhook-rollback',
  'pod-health',
  'preview-deadline',
  'switched-not-ready',
  'metric-unavailable',
  'inconclusive',
  'manual-pause',
  'pause-step',
  'await-promotion',
  'check-failing',
  'gate',
  'promote-switch',
  'override-promote',
  'window',
  'fast-revert',
  'soak',
  'preview-not-ready',
  'canary-not-ready',
  'weight-not-given',
  'advance',
  'derived-unavailable',
  'no-decision',
] as const;

/** docs/architecture.md, "The policy": RolloutPolicy status.phase. */
export const PHASES = ['Idle', 'Progressing', 'Paused', 'Promoting', 'Succeeded', 'RolledBack', 'Failed'] as const;
export type Phase = (typeof PHASES)[number];

/**
 * docs/architecture.md, "FactSnapshot v1": what the snapshot's `rollout.stepKind` says of the step: a canary step
 * (`weight`, `pause`, an A/B `match`, a `mirror`) or a blue-green stage (`preview`, `switched`; docs/strategies.md).
 */
export const STEP_KIND_FACTS = ['weight', 'pause', 'match', 'mirror', 'preview', 'switched'] as const;
export type StepKind = (typeof STEP_KIND_FACTS)[number];

/** docs/architecture.md, "FactSnapshot v1": the overrides a snapshot's `override` may carry. */
export const OVERRIDES = ['promote', 'abort', 'pause', 'resume'] as const;
export type Override = (typeof OVERRIDES)[number];

/** The body formats of a SIEM webhook (docs/audit.md): plain JSON, Splunk HEC, Elasticsearch bulk. */
export const WEBHOOK_FORMATS = ['json', 'splunk', 'elasticsearch'] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

/**
 * The events a notification destination can be sent (docs/notifications.md): what the rollout did, a person's
 * override, and the states that need a person.
 */
export const NOTIFICATION_EVENTS = [
  'started',
  'advanced',
  'paused',
  'awaitingApproval',
  'resumed',
  'promoted',
  'rolledBack',
  'override',
  'progressDeadlineExceeded',
  'metricUnavailable',
  'auditDegraded',
] as const;
export type NotificationEvent = (typeof NOTIFICATION_EVENTS)[number];

/**
 * What one measurement of a check says (docs/checks.md): within its bounds, outside them, in its inconclusive band,
 * or no number at all. A fact of the snapshot (`checks.<name>.verdict`).
 */
export const VERDICTS = ['pass', 'fail', 'inconclusive', 'unavailable'] as const;
export type Verdict = (typeof VERDICTS)[number];

export const isAction = (value: unknown): value is Action => (ACTIONS as readonly unknown[]).includes(value);

/**
 * A step as people read it, everywhere (status.step, Events, logs, `kubestead status`, the demo,
 * reports, decision messages): counted from 1, of the policy's step count — `2/3` is the second of
 * three. Data (status.currentStep, the snapshot's rollout.step, a decision's step) holds the
 * 0-based index into spec.steps; only this function turns one into the other.
 */
export function stepLabel(index: number, count?: number): string {
  return count === undefined ? String(index + 1) : `${index + 1}/${count}`;
}

/** `{step}` in a rule's message: the snapshot's step as people read it (`2/3`), not `{rollout.step}`'s index. */
export const STEP_PLACEHOLDER = 'step';

export const PRIMARY_SUFFIX = '-primary';
const CANARY_SUFFIX = '-canary';

/** `<target>-primary`: the Deployment (and, with a weighted router, the Service) of the stable version. */
export const primaryName = (target: string): string => `${target}${PRIMARY_SUFFIX}`;
/** `<svc>-canary`: the Service of the canary's pods a weighted router sends to. */
export const canaryName = (service: string): string => `${service}${CANARY_SUFFIX}`;
/** The target a `<target>-primary` name belongs to, or undefined for another name. */
export const targetOfPrimary = (name: string): string | undefined =>
  name.endsWith(PRIMARY_SUFFIX) ? name.slice(0, -PRIMARY_SUFFIX.length) : undefined;
