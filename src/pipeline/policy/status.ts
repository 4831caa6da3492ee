import { z } from 'zod';
import { ACTIONS, OVERRIDES, PHASES, VERDICTS } from './vocabulary.js';

/** A Kubernetes-convention condition (type, status, reason, message, lastTransitionTime). */
export const conditionStatusSchema = z.object({
  type: z.string(),
  status: z.enum(['True', 'False', 'Unknown']),
  reason: z.string(),
  message: z.string(),
  lastTransitionTime: z.string(),
  observedGeneration: z.number().int().optional(),
});

/** RolloutPolicy status (docs/architecture.md, "The policy"): all a restarted controller needs to resume. */
export const policyStatusSchema = z.object({
  phase: z.enum(PHASES).optional(),
  /** The 0-based index into spec.steps of the step in progress (or the last one reached). */
  currentStep: z.number().int().min(0).optional(),
  /** Extension: currentStep as people read it, `2/3` (the printer column Step; docs/architecture.md). */
  step: z.string().optional(),
  canaryWeight: z.number().min(0).max(100).optional(),
  effectiveWeight: z.number().min(0).max(100).optional(),
  stepStartedAt: z.string().optional(),
  stableRevision: z.string().optional(),
  canaryRevision: z.string().optional(),
  lastDecision: z
    .object({
      action: z.enum(ACTIONS),
      reasons: z.array(z.object({ rule: z.string(), check: z.string().optional(), message: z.string() })),
      time: z.string(),
    })
    .optional(),
  audit: z.object({ head: z.string().optional(), seq: z.number().int().optional() }).optional(),
  /**
   * Extension: each check's reading, as of the last tick (what `kubestead status` shows). The checks
   * are measured every interval, but status is written only when something shown changes: so the
   * time kept is when the reading last changed (`unchangedSince`), not when it was last taken.
   */
  checks: z
    .record(
      z.string(),
      z.object({
        status: z.enum(['ok', 'unavailable']),
        value: z.number().nullable(),
        min: z.number().nullable(),
        max: z.number().nullable(),
        unchangedSince: z.string().optional(),
        error: z.string().optional(),
        /** The reading's verdict: pass, fail, inconclusive or unavailable. */
        verdict: z.enum(VERDICTS).optional(),
        /** Failing measurements in a row (what failureLimit counts), and the tick time of the last one counted. */
        consecutiveFailures: z.number().int().min(0).optional(),
        lastFailureAt: z.string().optional(),
      }),
    )
    .optional(),
  /** Extension: the newest rollback report ConfigMap (set from the audit recorder's receipt). */
  report: z.string().optional(),
  /**
   * Extension: true from an accepted `pause` override, or a pause for an inconclusive value, until `resume` or
   * `promote`.
   */
  manualPause: z.boolean().optional(),
  /** Extension: a person resumed the current step: a value in an inconclusive band no longer pauses it. */
  inconclusiveAccepted: z.boolean().optional(),
  /**
   * Extension: the webhooks that passed in this rollout (docs/webhooks.md): a preRollout is asked until it passes, a
   * gate until it opens at its step; `<canary revision>/<name>[@<step>]`.
   */
  webhooksPassed: z.array(z.string()).optional(),
  /** Extension: the confirm gate the rollout waits on, and what it answered (docs/webhooks.md). */
  waitingFor: z.string().optional(),
  /** Extension: seconds the current step was paused (the soak clock excludes them), and since when it is paused. */
  pausedSeconds: z.number().min(0).optional(),
  pausedSince: z.string().optional(),
  /** Extension: the last override consumed (its time also tells a consumed annotation from a new one). */
  lastOverride: z.object({ action: z.enum(OVERRIDES), actor: z.string(), time: z.string() }).optional(),
  /** Extension: the canary count Kubestead last gave the target (a different live count is a user's scale). */
  canaryReplicas: z.number().int().min(0).optional(),
  conditions: z.array(conditionStatusSchema).optional(),
  observedGeneration: z.number().int().optional(),
});

export type PolicyStatus = z.output<typeof policyStatusSchema>;
