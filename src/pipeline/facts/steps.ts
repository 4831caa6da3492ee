import { parseDuration } from '../policy/duration.js';
import type { PolicySpec } from '../policy/schema.js';

/** Default soak of a weight step (docs/architecture.md, "The policy"). */
const DEFAULT_SOAK = '5m';

/** What a step asks for: its kind, the canary weight it holds, and its soak or pause duration. */
export interface StepPlan {
  kind: 'weight' | 'pause';
  /** A weight step's weight; a pause step keeps the weight of the last weight step before it (0 if none). */
  weight: number;
  /** A weight step's soak, a timed pause's duration; null for an untimed `pause: {}`. */
  soakSeconds: number | null;
}

export function stepPlan(spec: PolicySpec, index: number): StepPlan {
  const step = spec.steps[index];
  if (step?.pause)
    return {
      kind: 'pause',
      weight: heldWeight(spec, index),
      soakSeconds: step.pause.duration ? parseDuration(step.pause.duration) : null,
    };
  return { kind: 'weight', weight: step?.weight ?? 0, soakSeconds: parseDuration(step?.soak ?? DEFAULT_SOAK) };
}

function heldWeight(spec: PolicySpec, index: number): number {
  for (let i = index - 1; i >= 0; i--) {
    const weight = spec.steps[i]?.weight;
    if (weight !== undefined) return weight;
  }
  return 0;
}
