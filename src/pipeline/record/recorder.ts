import type { Decision } from '../decide/decision.js';
import type { FactSnapshot } from '../facts/snapshot.js';

/** Which RolloutPolicy a record belongs to (the generation the decision was made for). */
export interface PolicyRef {
  namespace: string;
  name: string;
  uid: string;
  generation: number;
}

/**
 * What happened, as the controller hands it to the recorders:
 * - `decision`: a decision that changes something (advance, promote, pause, resume, rollback);
 * - `override`: an override consumed from the policy's annotation, with its actor;
 * - `breach`: the first breach of a check in a rollout;
 * - `shadow`: what shadow mode would have done;
 * - `event`: a controller event that matters (adoption, leader change, resumed after restart, drift).
 */
export type RecordKind = 'decision' | 'override' | 'breach' | 'shadow' | 'event';

export interface DecisionRecord {
  kind: RecordKind;
  /** ISO-8601, from the controller's clock. */
  time: string;
  policy: PolicyRef;
  decision: Decision;
  /** The frozen snapshot the decision was made from (absent for some controller events). */
  snapshot?: FactSnapshot;
  /** Who overrode (from a SelfSubjectReview), for `override` records. */
  actor?: string;
  /** A one-line summary, as shown in Events: `rolled back: error-rate = 0.4 is above max 0.05`. */
  message: string;
  /** Controller identity (pod name or host and pid). */
  controller: string;
  /** The canary revision the decision is about (status.canaryRevision): part of the audit dedupe key. */
  revision?: string;
}

/** Where a record was stored, when the store reports it (the audit chain's head and seq). */
export interface RecordReceipt {
  head?: string;
  seq?: number;
  /** The store was down: the record is queued and will be written, marked late, when it returns. */
  late?: boolean;
  /** The same action was already recorded (a repeat after a crash): no second entry was written. */
  deduped?: boolean;
  /** With deduped: the message of the record already stored (its values, not the repeat's). */
  storedMessage?: string;
  /** The name of the rollback report written for this record (for status.report). */
  report?: string;
}

/**
 * The seam every record passes through before the actuation it describes (write-ahead). A recorder
 * resolves only once the record is stored; it rejects when it cannot store it. The controller does
 * not apply an advance or promote whose record was refused; pause and rollback go ahead regardless.
 */
export interface Recorder {
  record(entry: DecisionRecord): Promise<RecordReceipt>;
  /**
   * Optional: whether the recorder can store a policy's records now (store reachable, chain intact,
   * SIEM backlog within its bound). The tick shows it as the AuditHealthy condition and does not
   * apply an advance or promote while it is unhealthy. Absent: always healthy.
   */
  checkHealth?(policy: PolicyRef): Promise<RecorderHealth>;
  /** Optional: the health last known, without reading the store (cheap; every tick asks). */
  health?(policy: PolicyRef): RecorderHealth;
  /** Optional: resumes work a previous leader or process left undone (SIEM delivery); called on becoming leader. */
  deliverPending?(policy: PolicyRef): Promise<void>;
  /** Optional: whether the policy's notifications go through (the NotificationsDegraded condition). */
  notificationHealth?(policy: Pick<PolicyRef, 'uid'>): NotificationHealth;
  /** Optional: drops what is kept in memory for a deleted policy (what is stored stays). */
  forget?(policy: Pick<PolicyRef, 'uid'>): void;
}

/** A recorder's state for one policy, as a condition shows it (reason PascalCase). */
export interface RecorderHealth {
  healthy: boolean;
  reason: string;
  message: string;
  /** Entries a SIEM destination has not acknowledged yet (the slowest one). */
  backlog?: number;
  /** The newest stored entry the recorder knows of (a late entry written between ticks shows in status.audit). */
  head?: { head: string; seq: number };
}

/** Whether a policy's notification destinations accept what is sent (reason PascalCase; no URL in the message). */
export interface NotificationHealth {
  degraded: boolean;
  /** How many destinations the policy's messages go to: its own, or the operator-wide defaults (0: none yet). */
  destinations: number;
  reason: string;
  message: string;
}
