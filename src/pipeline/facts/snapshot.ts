import { z } from 'zod';
import { formatPath, fromZodIssues, type PolicyIssue } from '../policy/issues.js';
import { matchSchema, mirrorSchema } from '../policy/strategies.js';
import { OVERRIDES, PHASES, STEP_KIND_FACTS, VERDICTS } from '../policy/vocabulary.js';
import { comparisonFactsSchema } from '../policy/compare.js';
import { WEBHOOK_TYPES } from '../policy/webhooks.js';

/** A finite number: NaN and ±Infinity are never a measurement. */
const finite = z.number().refine(Number.isFinite, { error: 'expected a finite number' });
const count = z.number().int().min(0);

const measurementSchema = z
  .looseObject({
    status: z.enum(['ok', 'unavailable']),
    value: finite.nullable(),
    min: finite.nullable().default(null),
    max: finite.nullable().default(null),
    provider: z.string().default(''),
    query: z.string().default(''),
    observedAt: z.string().optional(),
    error: z.string().optional(),
    /** A comparison check's statistics (src/pipeline/policy/compare.ts). */
    comparison: comparisonFactsSchema.optional(),
    /** What this measurement says against the check's bounds and band (computed by decide when absent). */
    verdict: z.enum(VERDICTS).optional(),
    /** Failing measurements in a row, this one included (0 when it is in bounds; unchanged by an unavailable one). */
    consecutiveFailures: count.optional(),
  })
  .superRefine((m, ctx) => {
    if (m.status === 'ok' && m.value === null) {
      ctx.addIssue({ code: 'custom', path: ['value'], message: 'status "ok" needs a finite number as value' });
    }
  });

const rolloutFactsSchema = z
  .strictObject({
    phase: z.enum(PHASES),
    step: count,
    stepCount: z.number().int().min(1),
    manualPause: z.boolean(),
    stepKind: z.enum(STEP_KIND_FACTS),
    weight: z.number().min(0).max(100),
    /** An A/B step (or a pause after one): the entries a request must match to reach the canary. */
    match: matchSchema.optional(),
    /** A mirror step (or a pause after one): the percent of primary's requests copied to the canary. */
    mirror: mirrorSchema.optional(),
    stepElapsedSeconds: z.number().min(0),
    /**
     * Blue-green preview: seconds since the preview began. Its soak (stepElapsedSeconds) starts only once every new
     * pod is Ready; the progress deadline counts from here (rules/pod-health.json, `preview-deadline`).
     */
    previewElapsedSeconds: z.number().min(0).optional(),
    soakSeconds: z.number().min(0).nullable(),
    canary: z.strictObject({ desiredReplicas: count, readyReplicas: count, restarts: count }),
    stable: z.strictObject({ desiredReplicas: count, readyReplicas: count }),
    /** A person resumed this step: a value in a check's inconclusive band no longer pauses it. */
    inconclusiveAccepted: z.boolean().optional(),
    /**
     * A weighted router at a weight step (absent otherwise): whether the route gave the canary the step's weight when
     * the tick began. A weighted router gives it only once every canary pod is ready, and the soak counts from then
     * (rules/canary-not-ready.json, `weight-not-given`).
     */
    weightGiven: z.boolean().optional(),
  })
  .refine((r) => r.step < r.stepCount, { error: 'rollout.step must be below rollout.stepCount', path: ['step'] })
  .refine((r) => r.stepKind === 'pause' || r.soakSeconds !== null, {
    error: 'a step that is not a pause needs soakSeconds',
    path: ['soakSeconds'],
  });

/**
 * One webhook call's answer (docs/webhooks.md): `ok` is a 2xx answer (after retries); a call that was not answered 2xx
 * says why in `error` (`HTTP 403 Forbidden`, `timeout after 10s`). The excerpt is the start of the body, bounded.
 */
const webhookAnswerSchema = z
  .strictObject({
    type: z.enum(WEBHOOK_TYPES),
    ok: z.boolean(),
    code: z.number().int().min(100).max(599).nullable().default(null),
    latencyMs: z.number().min(0).default(0),
    error: z.string().optional(),
    excerpt: z.string().max(512).optional(),
    deliveryId: z.string().optional(),
  })
  .refine((a) => a.ok || a.error !== undefined, { error: 'a webhook answer that is not ok says why in "error"' });

/**
 * FactSnapshot v1 (docs/architecture.md, "FactSnapshot v1"): the whole input of decide, stored in every audit entry.
 */
export const snapshotSchema = z.strictObject({
  version: z.literal(1),
  time: z.iso.datetime({ offset: true }),
  rollout: rolloutFactsSchema,
  checks: z.record(z.string(), measurementSchema),
  derived: z.record(z.string(), z.unknown()).default({}),
  kube: z.strictObject({ warningEvents: count, reasons: z.record(z.string(), count).default({}) }),
  override: z.enum(OVERRIDES).nullable(),
  /** The answers of the webhooks asked this tick, by name (absent: none was asked). */
  webhooks: z.record(z.string(), webhookAnswerSchema).optional(),
  /** Only when the policy has `windows`: whether they hold the rollout now (src/pipeline/facts/windows.ts). */
  window: z
    .strictObject({ frozen: z.boolean(), reason: z.string().nullable(), opensAt: z.iso.datetime().nullable() })
    .optional(),
  /** Only when the policy has `fastRevert`: whether the canary's revision was promoted before (facts/revert.ts). */
  revert: z
    .strictObject({
      known: z.boolean(),
      revision: z.string().nullable(),
      promotionsAgo: z.number().int().min(1).nullable(),
    })
    .optional(),
});

export type FactSnapshot = z.output<typeof snapshotSchema>;
export type RolloutFacts = FactSnapshot['rollout'];
export type CheckFacts = FactSnapshot['checks'][string];
export type WebhookAnswer = z.output<typeof webhookAnswerSchema>;

/** Thrown by decide for a malformed snapshot: every issue with its path. */
export class SnapshotError extends Error {
  constructor(readonly issues: PolicyIssue[]) {
    super(`invalid fact snapshot: ${issues.map((i) => `${formatPath(i.path)}: ${i.message}`).join('; ')}`);
    this.name = 'SnapshotError';
  }
}

export function parseSnapshot(
  raw: unknown,
): { snapshot: FactSnapshot; issues: [] } | { snapshot: null; issues: PolicyIssue[] } {
  const parsed = snapshotSchema.safeParse(raw);
  if (parsed.success) return { snapshot: parsed.data, issues: [] };
  // Parsed again to put the offending values in the messages; only the failing path pays for it.
  const reported = snapshotSchema.safeParse(raw, { reportInput: true });
  return { snapshot: null, issues: fromZodIssues(reported.error?.issues ?? parsed.error.issues) };
}
