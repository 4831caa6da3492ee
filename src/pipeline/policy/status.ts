import { z } from 'zod';
import { ACTIONS, OVERRIDES, PHASES, VERDICTS } from './vocabulary.js';
import { doc } from './schema-parts.js';
import { autoscalerStatusSchema } from './status-autoscaler.js';

/** A Kubernetes-convention condition (type, status, reason, message, lastTransitionTime). */
export const conditionStatusSchema = z
  .object({
    type: z
      .string()
      .meta(
        doc('Ready, Progressing, Degraded, AuditHealthy, NotificationsDegraded, Frozen or Stale.', 'type: Degraded'),
      ),
    status: z.enum(['True', 'False', 'Unknown']).meta(doc('Whether the condition holds.', 'status: "False"')),
    reason: z.string().meta(doc('Why, in one PascalCase word.', 'reason: AsExpected')),
    message: z.string().meta(doc('Why, in a sentence with the values.', 'message: nothing degraded')),
    lastTransitionTime: z
      .string()
      .meta(doc('When `status` last changed.', 'lastTransitionTime: "2026-11-26T10:00:00Z"')),
    observedGeneration: z
      .number()
      .int()
      .meta(doc('The policy generation the condition was set for.', 'observedGeneration: 3'))
      .optional(),
  })
  .meta(doc('One condition, as Kubernetes conventions have them.'));

const reasonSchema = z
  .object({
    rule: z.string().meta(doc('The rule that gave the reason.', 'rule: check-breach')),
    check: z.string().meta(doc('The check it is about, if any.', 'check: error-rate')).optional(),
    message: z.string().meta(doc('The reason with its values.', 'message: error-rate = 0.034 is above max 0.01')),
  })
  .meta(doc('One reason of the decision.'));

const checkStatusSchema = z
  .object({
    status: z
      .enum(['ok', 'unavailable'])
      .meta(doc('`ok`: a number was read; `unavailable`: none could be (never a pass).', 'status: ok')),
    value: z.number().nullable().meta(doc('The value read (null when unavailable).', 'value: 0.002')),
    min: z.number().nullable().meta(doc("The check's lower bound (null: none).", 'min: null')),
    max: z.number().nullable().meta(doc("The check's upper bound (null: none).", 'max: 0.01')),
    unchangedSince: z
      .string()
      .meta(
        doc('When this reading last changed (not when it was last taken).', 'unchangedSince: "2026-11-26T10:00:00Z"'),
      )
      .optional(),
    error: z
      .string()
      .meta(doc('Why it is unavailable.', 'error: "prometheus http://prom:9090: timeout after 5s"'))
      .optional(),
    verdict: z
      .enum(VERDICTS)
      .meta(doc("The reading's verdict: pass, fail, inconclusive or unavailable.", 'verdict: pass'))
      .optional(),
    consecutiveFailures: z
      .number()
      .int()
      .min(0)
      .meta(doc('Failing measurements in a row (what `failureLimit` counts).', 'consecutiveFailures: 0'))
      .optional(),
    lastFailureAt: z
      .string()
      .meta(doc('The tick time of the last failing measurement counted.', 'lastFailureAt: "2026-11-26T10:00:00Z"'))
      .optional(),
  })
  .meta(doc("One check's reading against its bounds."));

/** RolloutPolicy status (docs/architecture.md, "The policy"): all a restarted controller needs to resume. */
export const policyStatusSchema = z
  .object({
    phase: z
      .enum(PHASES)
      .meta(doc(`The rollout's phase: ${PHASES.join(', ')}.`, 'phase: Progressing'))
      .optional(),
    /** The 0-based index into spec.steps of the step in progress (or the last one reached). */
    currentStep: z
      .number()
      .int()
      .min(0)
      .meta(
        doc('The 0-based index into spec.steps of the step in progress (or the last one reached).', 'currentStep: 1'),
      )
      .optional(),
    /** Extension: currentStep as people read it, `2/3` (the printer column Step; docs/architecture.md). */
    step: z
      .string()
      .meta(doc('The step as people read it, counted from 1 of the step count (the Step column).', 'step: 2/3'))
      .optional(),
    /** Extension: the current step's kind as people read it (the printer column Stage; docs/strategies.md). */
    stage: z
      .string()
      .meta(
        doc(
          'The kind of the step in progress as people read it: `A/B <matches>`, `mirror <percent> %`, ' +
            '`weight <percent> %` or `pause` (the Stage column); absent between rollouts.',
          'stage: A/B x-canary=insider',
        ),
      )
      .optional(),
    canaryWeight: z
      .number()
      .min(0)
      .max(100)
      .meta(doc('The weight (percent) the canary was asked to get.', 'canaryWeight: 25'))
      .optional(),
    effectiveWeight: z
      .number()
      .min(0)
      .max(100)
      .meta(doc('The share the replicas or the router really give the canary.', 'effectiveWeight: 25'))
      .optional(),
    stepStartedAt: z
      .string()
      .meta(doc('When the current step started (its soak counts from here).', 'stepStartedAt: "2026-11-26T10:00:00Z"'))
      .optional(),
    previewStartedAt: z
      .string()
      .meta(
        doc(
          'Blue-green: when the preview began. Its soak starts only once every new pod is Ready, so ' +
            '`podHealth.progressDeadline` counts from here (it survives a restart of the controller).',
          'previewStartedAt: "2026-11-26T10:00:00Z"',
        ),
      )
      .optional(),
    stableRevision: z
      .string()
      .meta(doc('The pod-template hash `<name>-primary` runs.', 'stableRevision: 5d8f7c9b4'))
      .optional(),
    canaryRevision: z
      .string()
      .meta(doc("The pod-template hash of the target's template under test.", 'canaryRevision: 7c6d9f8b5'))
      .optional(),
    lastDecision: z
      .object({
        action: z.enum(ACTIONS).meta(doc('What the decision did.', 'action: rollback')),
        reasons: z.array(reasonSchema).meta(doc('Every reason that applied, the deciding one first.')),
        time: z.string().meta(doc('When it was taken.', 'time: "2026-11-26T10:00:00Z"')),
      })
      .meta(doc('The last decision that changed something, with its reasons.'))
      .optional(),
    audit: z
      .object({
        head: z.string().meta(doc('The hash of the newest audit entry.', 'head: 9f2c…')).optional(),
        seq: z.number().int().meta(doc('Its sequence number.', 'seq: 41')).optional(),
      })
      .meta(doc("The newest entry of the policy's audit chain (a cut tail is found against it)."))
      .optional(),
    /**
     * Extension: each check's reading, as of the last tick (what `kubestead status` shows). The checks
     * are measured every interval, but status is written only when something shown changes: so the
     * time kept is when the reading last changed (`unchangedSince`), not when it was last taken.
     */
    checks: z
      .record(z.string(), checkStatusSchema)
      .meta(doc("Each check's reading as of the last tick, by check name (what `kubestead status` shows)."))
      .optional(),
    /** Extension: the newest rollback report ConfigMap (set from the audit recorder's receipt). */
    report: z
      .string()
      .meta(
        doc('The ConfigMap of the newest rollback report (`kubestead report`).', 'report: checkout-report-1a2b3c4d-12'),
      )
      .optional(),
    /** Extension: true from an accepted `pause` override until `resume` or `promote`. */
    manualPause: z
      .boolean()
      .meta(
        doc(
          'True from an accepted `kubestead pause`, or a pause for an inconclusive value, until `resume` or `promote`.',
          'manualPause: false',
        ),
      )
      .optional(),
    /** Extension: a person resumed the current step: a value in an inconclusive band no longer pauses it. */
    inconclusiveAccepted: z
      .boolean()
      .meta(
        doc(
          'A person resumed the current step: a value in an inconclusive band no longer pauses it.',
          'inconclusiveAccepted: true',
        ),
      )
      .optional(),
    webhooksPassed: z
      .array(z.string().meta(doc('One passed webhook: `<canary revision>/<name>[@<step>]`.', '- 7c6d9f8b5/smoke')))
      .meta(
        doc(
          'The webhooks that passed in this rollout (docs/webhooks.md): a preRollout is asked until it passes, a ' +
            'gate until it opens at its step.',
          'webhooksPassed: [7c6d9f8b5/smoke]',
        ),
      )
      .optional(),
    waitingFor: z
      .string()
      .meta(
        doc(
          'The confirm gate the rollout waits on, and what it answered (docs/webhooks.md).',
          'waitingFor: "release-gate: 403"',
        ),
      )
      .optional(),
    /** Extension: seconds the current step was paused (the soak clock excludes them), and since when it is paused. */
    pausedSeconds: z
      .number()
      .min(0)
      .meta(doc('Seconds the current step was paused (the soak clock excludes them).', 'pausedSeconds: 0'))
      .optional(),
    pausedSince: z
      .string()
      .meta(doc('Since when the rollout is paused.', 'pausedSince: "2026-11-26T10:00:00Z"'))
      .optional(),
    /** Extension: the last override consumed (its time also tells a consumed annotation from a new one). */
    lastOverride: z
      .object({
        action: z.enum(OVERRIDES).meta(doc('The override.', 'action: abort')),
        actor: z.string().meta(doc('Who gave it (from a SelfSubjectReview).', 'actor: jane@example.com')),
        time: z.string().meta(doc('When it was given.', 'time: "2026-11-26T10:00:00Z"')),
      })
      .meta(doc('The last override consumed, with who gave it.'))
      .optional(),
    /** Extension: the canary count Kubestead last gave the target (a different live count is a user's scale). */
    canaryReplicas: z
      .number()
      .int()
      .min(0)
      .meta(
        doc(
          "The canary's replica count Kubestead last set (another live count is a user's scale).",
          'canaryReplicas: 1',
        ),
      )
      .optional(),
    /** spec.fastRevert: the stable revision and the ones promoted before it, newest first. */
    promotedRevisions: z
      .array(z.string().meta(doc('A promoted revision (template and tracked config).', '- 7c6d9f8b5')))
      .meta(
        doc(
          'With `fastRevert`: the stable revision and the ones promoted before it, newest first.',
          'promotedRevisions: [7c6d9f8b5, 5d8f7c9b4]',
        ),
      )
      .optional(),
    autoscaler: autoscalerStatusSchema.optional(),
    /** Extension (`--shards auto`): the write fence's claim, docs/sharding.md. */
    shardOwner: z
      .object({
        replica: z
          .string()
          .meta(doc('The replica that claimed it (pod name, or host and pid).', 'replica: kubestead-7d9f8-x2k4p')),
        epoch: z
          .string()
          .meta(
            doc('The shard view in which the policy moved to that replica (new at every move).', 'epoch: 3f9a0c21'),
          ),
      })
      .meta(
        doc(
          '`--shards auto`: the replica that acts on the policy and since which shard view; a replica writes for ' +
            'the policy only while it holds this claim (docs/sharding.md).',
        ),
      )
      .optional(),
    conditions: z
      .array(conditionStatusSchema)
      .meta(
        doc(
          'Ready, Progressing, Degraded, AuditHealthy, NotificationsDegraded, Frozen and Stale ' +
            '(`--shards auto`: no replica could act on it for a lease duration).',
        ),
      )
      .optional(),
    observedGeneration: z
      .number()
      .int()
      .meta(doc('The policy generation the controller last acted on.', 'observedGeneration: 3'))
      .optional(),
  })
  .meta(doc('The rollout as the controller last wrote it: all a restarted controller needs to resume.'));

export type PolicyStatus = z.output<typeof policyStatusSchema>;
