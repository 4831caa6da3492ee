import type { Decision } from '../decide/decision.js';
import type { PolicyStatus } from '../policy/status.js';
import type { Override } from '../policy/vocabulary.js';
import type { AutoscalerStatus } from '../policy/status-autoscaler.js';

/**
 * The rollout's state machine: every change of `status.phase`, with the position fields that change
 * with it, is one of these functions. Each returns the fields to set (undefined clears one); the tick
 * applies them to the status it will write. Pure: no I/O, the time is given.
 *
 *   (none) --adopted--> Idle --canaryStarted--> Progressing <--> Paused
 *   Progressing/Paused --decided(rollback)--> RolledBack;  --decided(promote)--> Promoting --promoted--> Succeeded
 *   Progressing/Paused --withdrawn (the stable template again)--> Idle;  any --canaryStarted--> Progressing
 */
export type StatusChange = Partial<PolicyStatus>;

const UNPAUSED = { pausedSince: undefined, manualPause: false } as const;
/** A new step (or canary) has not been resumed by a person yet: its inconclusive bands apply. */
const UNACCEPTED = { inconclusiveAccepted: undefined } as const;

/** A workload taken over: the running template is stable, no canary. */
export function adopted(stableRevision: string, canaryReplicas: number): StatusChange {
  return { phase: 'Idle', stableRevision, canaryWeight: 0, canaryReplicas };
}

/** A new template: a canary (or, during one, its analysis again) starts at the first step. */
export function canaryStarted(revision: string, weight: number, now: string): StatusChange {
  return {
    phase: 'Progressing',
    currentStep: 0,
    canaryRevision: revision,
    stepStartedAt: now,
    previewStartedAt: undefined,
    pausedSeconds: 0,
    ...UNPAUSED,
    ...UNACCEPTED,
    canaryWeight: weight,
    checks: undefined,
    lastDecision: undefined,
  };
}

/** A step entered: its clock starts now, unpaused. */
export function steppedTo(step: number, weight: number, now: string): StatusChange {
  return {
    phase: 'Progressing',
    currentStep: step,
    stepStartedAt: now,
    previewStartedAt: undefined,
    pausedSeconds: 0,
    ...UNPAUSED,
    ...UNACCEPTED,
    canaryWeight: weight,
  };
}

/** The stable template again (reverted by hand or by Git): the canary ends, primary untouched. */
export function withdrawn(): StatusChange {
  return { phase: 'Idle', canaryWeight: 0, canaryRevision: undefined, ...UNPAUSED };
}

/** Primary runs the canary's template at its count: the canary's revision is the stable one. */
export function promoted(canaryRevision: string | undefined): StatusChange {
  return { phase: 'Succeeded', stableRevision: canaryRevision, canaryWeight: 0, ...UNPAUSED };
}

/** Seconds paused so far, with the pause that ends now added (the soak clock excludes them). */
function pauseEnded(status: PolicyStatus, nowMs: number): StatusChange {
  const since = status.pausedSince;
  const paused = since
    ? Math.round(((status.pausedSeconds ?? 0) + (nowMs - Date.parse(since)) / 1000) * 1000) / 1000
    : status.pausedSeconds;
  return { pausedSeconds: paused, pausedSince: undefined };
}

/** A pause of the step's own (a pause step) keeps its clock running; any other pause stops the soak clock. */
const stopsTheClock = (decision: Decision): boolean => decision.reasons[0]?.rule !== 'pause-step';

/**
 * manualPause: set by a `pause` override, lifted by `resume` or `promote`. A `resume` also accepts the step's
 * inconclusive readings: a person has looked at them, and a value in the band no longer pauses this step.
 */
function manualPauseAfter(override: Override | undefined): StatusChange {
  if (override === 'pause') return { manualPause: true };
  if (override === 'resume') return { manualPause: false, inconclusiveAccepted: true };
  return override === 'promote' ? { manualPause: false } : {};
}

/** A pause for an inconclusive value waits for a person, like a pause override (rules/inconclusive.json). */
const waitsForAPerson = (decision: Decision): boolean => decision.reasons[0]?.rule === 'inconclusive';

/**
 * A blue-green preview whose new version is not every pod Ready yet (rules/soak.json, `preview-not-ready`): its soak
 * has not started, so the stage's clock starts again now (docs/strategies.md). When the preview began is kept
 * (`previewStartedAt`, the first start of that clock): the progress deadline counts from it (rules/pod-health.json).
 */
function soakRestarted(status: PolicyStatus, decision: Decision, now: string): StatusChange {
  if (!decision.reasons.some((r) => r.rule === 'preview-not-ready')) return {};
  return {
    stepStartedAt: now,
    pausedSeconds: 0,
    previewStartedAt: status.previewStartedAt ?? status.stepStartedAt ?? now,
  };
}

/** When and with what a decision is taken: the tick's time, its override, and each step's weight. */
export interface DecisionContext {
  nowMs: number;
  override?: Override;
  weightOf(step: number): number;
}

/** The position after a decision (weights and counts are filled in from what is read back). */
export function decided(status: PolicyStatus, decision: Decision, at: DecisionContext): StatusChange {
  const change = manualPauseAfter(at.override);
  const now = new Date(at.nowMs).toISOString();
  switch (decision.action) {
    case 'advance': {
      const step = decision.nextStep ?? (status.currentStep ?? 0) + 1;
      return { ...change, ...steppedTo(step, at.weightOf(step), now) };
    }
    case 'promote':
      return { ...change, ...pauseEnded(status, at.nowMs), phase: 'Promoting', manualPause: false };
    case 'pause':
      return {
        ...change,
        phase: 'Paused',
        ...(stopsTheClock(decision) && !status.pausedSince ? { pausedSince: now } : {}),
        ...(waitsForAPerson(decision) ? { manualPause: true } : {}),
      };
    case 'rollback':
      return { ...change, ...pauseEnded(status, at.nowMs), phase: 'RolledBack', canaryWeight: 0, manualPause: false };
    case 'hold':
      return {
        ...change,
        ...pauseEnded(status, at.nowMs),
        phase: 'Progressing',
        ...soakRestarted(status, decision, now),
      };
    default: {
      const unknown: never = decision.action;
      throw new Error(`unknown action ${String(unknown)}`);
    }
  }
}

/** The user's HPA of the target as read this tick (undefined: none, and the field goes): docs/hpa.md. */
export function autoscalerObserved(autoscaler: AutoscalerStatus | undefined): StatusChange {
  return { autoscaler };
}
