import { policyOf, routerOf, type Stop, type TickContext, isShadow, stepsOf } from './context.js';
import { recordEvent } from './record.js';
import { recordUserWrites } from './verify.js';
import { stepLabel } from '../../pipeline/policy/vocabulary.js';
import { stepPlan, trafficOfPlan, type Traffic } from '../../pipeline/facts/steps.js';
import type { PolicySpec } from '../../pipeline/policy/schema.js';
/** A share as status shows it (effectiveWeight): at most 4 decimal places. */
export const shownWeight = (weight: number): number => Math.round(weight * 10_000) / 10_000;

/**
 * Drift: during a rollout a weighted router's live share must be what this controller last read
 * back (status.effectiveWeight) or the step's weight (a write of its own that status has not
 * caught up with). Anything else is someone's hand edit: it is recorded as a WeightDrift reason
 * (an Event and a record through every recorder, the audit chain included, with the values seen
 * and wanted) and written back before the tick decides. The replica split has no weights to edit:
 * a hand scale is followScale's. A tick that then writes no weight stands by this read (verifyWeight):
 * an edit landing later in the tick, while the checks are measured, is the next tick's drift, never
 * taken into status as the weight to keep.
 */
export async function correctDrift(ctx: TickContext): Promise<Stop | undefined> {
  const router = routerOf(ctx);
  const last = ctx.status.effectiveWeight;
  if (!router.weighted || isShadow(ctx) || last === undefined) return undefined;
  const candidates = candidatesOf(policyOf(ctx).spec, ctx.status.currentStep ?? 0, last);
  const live = await router.getWeight(candidates);
  ctx.routerWeight = live;
  const seen = shownWeight(live.weight);
  const weightKept = seen === last || seen === shownWeight(ctx.status.canaryWeight ?? 0);
  if (weightKept && live.carries !== -1) return undefined;
  await recordEvent(ctx, 'weight-drift', driftMessage(ctx, weightKept, seen, live.detail));
  const wanted = { ...(candidates?.[0] ?? { weight: last }), weight: last };
  ctx.routerWeight = (await router.setTraffic(wanted)) ?? (await router.getWeight());
  await recordUserWrites(ctx, router);
  ctx.next.effectiveWeight = shownWeight(ctx.routerWeight.weight);
  return undefined;
}

/** The additions a router may carry without a hand edit, when the policy has the router add any. */
const candidatesOf = (spec: PolicySpec, step: number, last: number): Traffic[] | undefined =>
  addsToRoutes(spec) ? acceptedTraffic(spec, step, last) : undefined;

/** Whether a policy has the router add anything beside weights: A/B or mirror steps, session affinity. */
function addsToRoutes(spec: PolicySpec): boolean {
  return (
    spec.trafficRouting.sessionAffinity !== undefined ||
    spec.steps.some((step) => step.match !== undefined || step.mirror !== undefined)
  );
}

/**
 * What the router's additions may be, no hand edit: the step's (first, the one written back), or the step before
 * it's, or none, at the weight last read (a step's own waits for its canary's pods).
 */
function acceptedTraffic(spec: PolicySpec, step: number, last: number): Traffic[] {
  const current = trafficOfPlan(stepPlan(spec, step));
  const before = step > 0 ? [trafficOfPlan(stepPlan(spec, step - 1))] : [];
  return [current, ...before, { weight: last }].map((traffic) => ({ ...traffic, weight: last }));
}

/** The Event for a drift: the router's additions edited by hand (weight kept), or the weight itself. */
function driftMessage(ctx: TickContext, weightKept: boolean, seen: number, detail: string): string {
  const last = ctx.status.effectiveWeight ?? 0;
  const kind = routerOf(ctx).kind;
  const step = stepLabel(ctx.status.currentStep ?? 0, stepsOf(ctx));
  return weightKept
    ? `route drift at step ${step}: ${kind} routing's A/B match, mirror or session cookie route was ` +
        `edited (${detail}); set back`
    : `weight drift at step ${step}: ${kind} routing gave the canary ${seen}% (${detail}), ${last}% ` +
        `wanted; set back to ${last}%`;
}
