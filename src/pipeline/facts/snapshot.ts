import { z } from 'zod';
import { formatPath, fromZodIssues, type PolicyIssue } from '../policy/issues.js';
import { OVERRIDES, PHASES } from '../policy/vocabulary.js';

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
    stepKind: z.enum(['weight', 'pause']),
    weight: z.number().min(0).max(100),
    stepElapsedSeconds: z.number().min(0),
    soakSeconds: z.number().min(0).nullable(),
    canary: z.strictObject({ desiredReplicas: count, readyReplicas: count, restarts: count }),
    stable: z.strictObject({ desiredReplicas: count, readyReplicas: count }),
  })
  .refine((r) => r.step < r.stepCount, { error: 'rollout.step must be below rollout.stepCount', path: ['step'] })
  .refine((r) => r.stepKind === 'pause' || r.soakSeconds !== null, {
    error: 'a weight step needs soakSeconds',
    path: ['soakSeconds'],
  });

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
