import type { FactSnapshot } from '../facts/snapshot.js';
import { stepPlan, type StepPlan } from '../facts/steps.js';
import { stepCount } from '../policy/strategies.js';
import type { PolicyIssue } from '../policy/issues.js';
import type { PolicySpec } from '../policy/schema.js';
import { describeMatch } from '../policy/strategies.js';
import { stepLabel } from '../policy/vocabulary.js';

/** What the policy says of a step, as the snapshot's rollout carries it: kind, weight, soak, match, mirror. */
export type StepFacts = Pick<FactSnapshot['rollout'], 'stepKind' | 'weight' | 'soakSeconds' | 'match' | 'mirror'>;

/** A step's plan as snapshot facts (`stepKind`; `match` and `mirror` only where the step has them). */
export function stepFacts(spec: PolicySpec, index: number): StepFacts {
  return factsOf(stepPlan(spec, index));
}

export function factsOf(plan: StepPlan): StepFacts {
  return {
    stepKind: plan.kind,
    weight: plan.weight,
    soakSeconds: plan.soakSeconds,
    ...(plan.match ? { match: plan.match } : {}),
    ...(plan.mirror !== undefined ? { mirror: plan.mirror } : {}),
  };
}

const show = (value: string | number | null): string =>
  typeof value === 'string' ? JSON.stringify(value) : String(value);

/**
 * Where a snapshot contradicts its policy (docs/architecture.md, "FactSnapshot v1": step count, step kind, weight,
 * soak, match, mirror): such a snapshot is bad input, never decided (a `stepCount: 99` on a three-step policy would
 * advance past its end).
 */
export function contradictions(spec: PolicySpec, snapshot: FactSnapshot): PolicyIssue[] {
  const { rollout } = snapshot;
  const count = stepCount(spec);
  if (rollout.stepCount !== count) {
    return [
      {
        path: ['rollout', 'stepCount'],
        message: `is ${rollout.stepCount}, but the policy has ${count} step(s)`,
      },
    ];
  }
  const expected = stepFacts(spec, rollout.step);
  const what = `step ${stepLabel(rollout.step, count)} of the policy`;
  if (rollout.stepKind !== expected.stepKind) {
    return [
      {
        path: ['rollout', 'stepKind'],
        message: `is ${show(rollout.stepKind)}, but ${what} is a ${expected.stepKind} step`,
      },
    ];
  }
  return [...valueIssues(rollout, expected, what), ...trafficIssues(rollout, expected, what)];
}

function valueIssues(rollout: FactSnapshot['rollout'], expected: StepFacts, what: string): PolicyIssue[] {
  const issues: PolicyIssue[] = [];
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

/** The A/B match and the mirror percent the step gives the canary (absent where the step has none). */
function trafficIssues(rollout: FactSnapshot['rollout'], expected: StepFacts, what: string): PolicyIssue[] {
  const issues: PolicyIssue[] = [];
  const matchOf = (facts: StepFacts) => (facts.match ? describeMatch(facts.match) : undefined);
  if (matchOf(rollout) !== matchOf(expected)) {
    issues.push({
      path: ['rollout', 'match'],
      message: `is ${matchOf(rollout) ?? 'absent'}, but ${what} ${expected.match ? `matches ${matchOf(expected)}` : 'has no match'}`,
    });
  }
  if (rollout.mirror !== expected.mirror) {
    issues.push({
      path: ['rollout', 'mirror'],
      message: `is ${rollout.mirror ?? 'absent'}, but ${what} ${expected.mirror === undefined ? 'mirrors nothing' : `mirrors ${expected.mirror}%`}`,
    });
  }
  return issues;
}
