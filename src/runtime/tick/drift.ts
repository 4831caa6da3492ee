import { policyOf, routerOf, type Stop, type TickContext, isShadow } from './context.js';
import { recordEvent } from './record.js';
import { stepLabel } from '../../pipeline/policy/vocabulary.js';
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
  if (router.kind === 'replicas' || isShadow(ctx) || last === undefined) return undefined;
  const live = await router.getWeight();
  ctx.routerWeight = live;
  const seen = shownWeight(live.weight);
  if (seen === last || seen === shownWeight(ctx.status.canaryWeight ?? 0)) return undefined;
  await recordEvent(
    ctx,
    'weight-drift',
    `weight drift at step ${stepLabel(ctx.status.currentStep ?? 0, policyOf(ctx).spec.steps.length)}: ${router.kind} ` +
      `routing gave the canary ${seen}% (${live.detail}), ${last}% wanted; set back to ${last}%`,
  );
  ctx.routerWeight = (await router.setWeight(last)) ?? (await router.getWeight());
  ctx.next.effectiveWeight = shownWeight(ctx.routerWeight.weight);
  return undefined;
}
