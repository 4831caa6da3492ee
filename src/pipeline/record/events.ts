import { randomBytes } from 'node:crypto';
import type { CoreV1Event, V1ObjectReference } from '@kubernetes/client-node';
import type { DecisionRecord, RecordReceipt, Recorder } from './recorder.js';

/** What a record is about: the policy, and the Deployment its Events also go to. */
export interface EventSubjects {
  policy: V1ObjectReference;
  /** The target Deployment (absent when it does not exist). */
  target?: V1ObjectReference;
}

export interface EventSink {
  createEvent(namespace: string, event: CoreV1Event): Promise<void>;
}

const WARNING_REASONS = new Set([
  'RolledBack',
  'NotificationsFailing',
  'InvalidPolicy',
  'TargetMissing',
  'TargetClaimed',
  'WeightDrift',
  'RouterUnavailable',
  'RecordRefused',
  'OverrideRefused',
  'WouldRollBack',
  'AuditChainBroken',
  'AuditStoreUnavailable',
  'AuditBacklogFull',
]);

const pascal = (text: string): string =>
  text
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('');

const ACTION_REASONS = {
  advance: 'Advanced',
  promote: 'Promoted',
  pause: 'Paused',
  rollback: 'RolledBack',
  hold: 'Held',
} as const;
const SHADOW_REASONS = {
  advance: 'WouldAdvance',
  promote: 'WouldPromote',
  pause: 'WouldPause',
  rollback: 'WouldRollBack',
  hold: 'WouldHold',
} as const;

/**
 * The Event reason of a record (PascalCase, as Kubernetes conventions have them): a decision by its action, an
 * override as Overridden, shadow as Would…, a controller event by its first reason's rule
 * (`adopted` → Adopted).
 */
export function eventReason(entry: DecisionRecord): string {
  switch (entry.kind) {
    case 'decision':
      return ACTION_REASONS[entry.decision.action];
    case 'breach':
      return 'Breach';
    case 'override':
      return 'Overridden';
    case 'shadow':
      return SHADOW_REASONS[entry.decision.action];
    case 'event':
      return pascal(entry.decision.reasons[0]?.rule ?? 'event');
    default: {
      const unknown: never = entry.kind;
      return String(unknown);
    }
  }
}

/** Event messages are capped as the API server caps them (1 KiB is plenty for one line). */
const clip = (text: string): string => (text.length > 1024 ? `${text.slice(0, 1023)}…` : text);

/**
 * The status+Events recorder's Event half: one core/v1 Event per record on the policy and one on
 * the target Deployment, created before the actuation the record describes. Resolves once both
 * are stored; rejects when the API refuses one.
 */
export class EventRecorder implements Recorder {
  constructor(
    private readonly sink: EventSink,
    private readonly subjects: EventSubjects,
    private readonly identity: string,
  ) {}

  async record(entry: DecisionRecord): Promise<RecordReceipt> {
    const reason = eventReason(entry);
    const about = [this.subjects.policy, ...(this.subjects.target ? [this.subjects.target] : [])];
    await Promise.all(
      about.map((object) =>
        this.sink.createEvent(object.namespace ?? entry.policy.namespace, this.event(object, reason, entry)),
      ),
    );
    return {};
  }

  private event(object: V1ObjectReference, reason: string, entry: DecisionRecord): CoreV1Event {
    const time = new Date(entry.time);
    return {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: {
        name: `${object.name ?? 'kubestead'}.${time.getTime().toString(16)}${randomBytes(4).toString('hex')}`,
        namespace: object.namespace,
      },
      involvedObject: object,
      reason,
      message: clip(entry.message),
      type: WARNING_REASONS.has(reason) ? 'Warning' : 'Normal',
      source: { component: 'kubestead' },
      firstTimestamp: time,
      lastTimestamp: time,
      count: 1,
      action: entry.kind === 'override' ? `override:${entry.actor ?? 'unknown'}` : entry.decision.action,
      reportingComponent: 'kubestead.io/controller',
      reportingInstance: this.identity,
    };
  }
}
