import type { FactSnapshot } from '../facts/snapshot.js';
import { parseDuration } from '../policy/duration.js';
import type { PolicyIssue } from '../policy/issues.js';
import type { PolicySpec } from '../policy/schema.js';
import { stepLabel } from '../policy/vocabulary.js';

/** What the policy says of a step: its kind, its traffic weight and its soak (null for a manual pause). */
export interface StepFacts {
  stepKind: 'weight' | 'pause';
  weight: number;
  soakSeconds: number | null;
}

/** Default soak of a weight step (docs/architecture.md, "The policy"). */
export const DEFAULT_SOAK = '5m';

export function stepFacts(spec: PolicySpec, index: number): StepFacts {
  const step = spec.steps[index];
  const pause = step?.pause;
  if (pause)
    return {
      stepKind: 'pause',
      weight: weightAt(spec, index),
      soakSeconds: pause.duration ? parseDuration(pause.duration) : null,
    };
  return { stepKind: 'weight', weight: weightAt(spec, index), soakSeconds: parseDuration(step?.soak ?? DEFAULT_SOAK) };
}

/** The traffic weight at a step: its own, or the last weight step's before a pause (0 before any). */
function weightAt(spec: PolicySpec, index: number): number {
  for (let i = index; i >= 0; i--) {
    const weight = spec.steps[i]?.weight;
    if (weight !== undefined) return weight;
  }
  return 0;
}

const show = (value: string | number | null): string =>
  typeof value === 'string' ? JSON.stringify(value) : String(value);

/**
 * Where a snapshot contradicts its policy (docs/architecture.md, "FactSnapshot v1": step count, step kind, weight,
 * soak): such a
 * snapshot is bad input, never decided (a `stepCount: 99` on a three-step policy would advance past its end).
 */
export function contradictions(spec: PolicySpec, snapshot: FactSnapshot): PolicyIssue[] {
  const { rollout } = snapshot;
  if (rollout.stepCount !== spec.steps.length) {
    return [
      {
        path: ['rollout', 'stepCount'],
        message: `is ${rollout.stepCount}, but the policy has ${spec.steps.length} step(s)`,
      },
    ];
  }
  const expected = stepFacts(spec, rollout.step);
  const what = `step ${stepLabel(rollout.step, spec.steps.length)} of the policy`;
  const issues: PolicyIssue[] = [];
  if (rollout.stepKind !== expected.stepKind) {
    issues.push({
      path: ['rollout', 'stepKind'],
      message: `is ${show(rollout.stepKind)}, but ${what} is a ${expected.stepKind} step`,
    });
    return issues;
  }
  if (rollout.weight !== expected.weight) {
    issues.push({
      path: ['rollout', 'weight'],
      message: `is ${rollout.weight}, but ${what} has weight ${expected.weight}`,
    });
  }
  if (rollout.soakSeconds !== expected.soakSeconds) {
    const says =
      expected.soakSeconds === null
        ? 'is a pause without duration (soakSeconds null: it waits for resume)'
        : `has soakSeconds ${expected.soakSeconds}`;
    issues.push({ path: ['rollout', 'soakSeconds'], message: `is ${show(rollout.soakSeconds)}, but ${what} ${says}` });
  }
  return issues;
}
