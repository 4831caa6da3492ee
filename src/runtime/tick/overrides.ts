import { z } from 'zod';
import { OVERRIDES, type Override } from '../../pipeline/policy/vocabulary.js';
import type { PolicyObject } from '../../adapters/kube/cache.js';
import { OVERRIDE_ANNOTATION } from '../../adapters/kube/names.js';
import type { RolloutStatus } from './status.js';
/** The value of the `kubestead.io/override` annotation (conventions): action, actor, time. */
export const overrideSchema = z.strictObject({
  action: z.enum(OVERRIDES),
  actor: z.string().min(1),
  time: z.iso.datetime({ offset: true }),
});

export interface PendingOverride {
  action: Override;
  actor: string;
  time: string;
}

/** What the annotation holds: nothing, an override, or why it cannot be one. */
export type OverrideRead =
  { kind: 'none' } | { kind: 'override'; override: PendingOverride } | { kind: 'invalid'; message: string };

export function readOverride(policy: PolicyObject): OverrideRead {
  const text = policy.metadata?.annotations?.[OVERRIDE_ANNOTATION];
  if (text === undefined) return { kind: 'none' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: 'invalid', message: `annotation ${OVERRIDE_ANNOTATION} is not JSON` };
  }
  const parsed = overrideSchema.safeParse(value);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const problem = first ? `${first.path.join('.') || 'value'}: ${first.message}` : 'invalid';
    return { kind: 'invalid', message: `annotation ${OVERRIDE_ANNOTATION}: ${problem}` };
  }
  return { kind: 'override', override: parsed.data };
}

/** An override status already records was consumed before a restart; only its annotation is left to remove. */
export function alreadyConsumed(status: RolloutStatus, override: PendingOverride): boolean {
  return status.lastOverride?.time === override.time && status.lastOverride.action === override.action;
}

/** Phases an override applies to: a rollout in progress. */
export const OVERRIDABLE_PHASES: readonly string[] = ['Progressing', 'Paused'];
