import { parseDuration } from '../policy/duration.js';
import type { PolicySpec } from '../policy/schema.js';
import { describeMatch, type Traffic } from '../policy/strategies.js';
import type { StepKind } from '../policy/vocabulary.js';
import { percentText } from '../policy/weights.js';

/** Default soak of a weight, match or mirror step (docs/architecture.md, "The policy"). */
export const DEFAULT_SOAK = '5m';

export type { Traffic };

/** What a step asks for: its kind, the traffic it gives the canary, and its soak or pause duration. */
export interface StepPlan extends Traffic {
  kind: StepKind;
  /** A step's soak (a blue-green stage's: the preview soak, the scaleDownDelay), a timed pause's duration; null for `pause: {}`. */
  soakSeconds: number | null;
}

const seconds = (duration: string): number => parseDuration(duration) ?? 0;

/**
 * The plan of a step: a weight, match or mirror step's own traffic; a pause keeps the traffic of the last step
 * before it that is not a pause (none: weight 0). A blue-green policy has two stages: the preview (no user
 * traffic, the checks judge the new version for `soak`) and the switch (all of it, for `scaleDownDelay`).
 */
export function stepPlan(spec: PolicySpec, index: number): StepPlan {
  const blueGreen = spec.blueGreen;
  if (blueGreen)
    return index === 0
      ? { kind: 'preview', weight: 0, soakSeconds: seconds(blueGreen.soak) }
      : { kind: 'switched', weight: 100, soakSeconds: seconds(blueGreen.scaleDownDelay) };
  const step = spec.steps[index];
  if (step?.pause)
    return {
      kind: 'pause',
      ...heldTraffic(spec, index),
      soakSeconds: step.pause.duration ? parseDuration(step.pause.duration) : null,
    };
  return { kind: kindOf(step), ...trafficOf(step), soakSeconds: seconds(step?.soak ?? DEFAULT_SOAK) };
}

/**
 * What a plan asks of the router (its weight, and its match, mirror or blue-green stage), as TrafficRouter.setTraffic
 * takes it.
 */
export function trafficOfPlan(plan: StepPlan): Traffic {
  return {
    weight: plan.weight,
    ...(plan.match ? { match: plan.match } : {}),
    ...(plan.mirror !== undefined ? { mirror: plan.mirror } : {}),
    ...(plan.kind === 'preview' || plan.kind === 'switched' ? { stage: plan.kind } : {}),
  };
}

type Step = PolicySpec['steps'][number];

function kindOf(step: Step | undefined): StepKind {
  if (step?.match) return 'match';
  return step?.mirror !== undefined ? 'mirror' : 'weight';
}

function trafficOf(step: Step | undefined): Traffic {
  if (step?.match) return { weight: 0, match: step.match };
  if (step?.mirror !== undefined) return { weight: 0, mirror: step.mirror };
  return { weight: step?.weight ?? 0 };
}

function heldTraffic(spec: PolicySpec, index: number): Traffic {
  for (let i = index - 1; i >= 0; i--) {
    const step = spec.steps[i];
    if (step && !step.pause) return trafficOf(step);
  }
  return { weight: 0 };
}

/**
 * The canary's pods a step needs, as a percent of primary's count: its weight, the share a mirror copies, all of
 * them for blue-green; an A/B step (weight 0) gets at least one pod from the router's count.
 */
export function capacityOf(plan: StepPlan): number {
  if (plan.kind === 'preview' || plan.kind === 'switched') return 100;
  return Math.max(plan.weight, plan.mirror ?? 0);
}

/**
 * The stage as people read it (status.stage, `kubestead status`, Events): `weight 5 %`, `A/B x-canary=insider`,
 * `mirror 100 %`, `paused at weight 5 %`, `preview`, `switched, old kept 30 s`.
 */
export function stageText(plan: StepPlan): string {
  switch (plan.kind) {
    case 'weight':
      return `weight ${percentText(plan.weight)} %`;
    case 'match':
    case 'mirror':
      return trafficText(plan);
    case 'pause':
      return `paused at ${trafficText(plan)}`;
    case 'preview':
      return 'preview';
    case 'switched':
      return `switched, old kept ${plan.soakSeconds ?? 0} s`;
    default: {
      const unknown: never = plan.kind;
      throw new Error(`unknown step kind ${String(unknown)}`);
    }
  }
}

function trafficText(traffic: Traffic): string {
  if (traffic.match) return `A/B ${describeMatch(traffic.match)}`;
  if (traffic.mirror !== undefined) return `mirror ${percentText(traffic.mirror)} %`;
  return `weight ${percentText(traffic.weight)} %`;
}
