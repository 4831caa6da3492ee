import type { Decision } from '../../pipeline/decide/decision.js';
import {
  isoAt,
  policyOf,
  targetOf,
  type Stop,
  type TickContext,
  actuatorOf,
  isShadow,
  stepsOf,
  canaryHeldByAutoscaler,
} from './context.js';
import { shownWeight } from './drift.js';
import { recordEvent } from './record.js';
import type { RouterWeight } from '../../adapters/routers/router.js';
import { unchangedWeight, verifyWeight } from './verify.js';
import { stepLabel } from '../../pipeline/policy/vocabulary.js';
import { decided } from '../../pipeline/actuate/transitions.js';
import { stepPlan, trafficOfPlan } from '../../pipeline/facts/steps.js';
/** What status says after a decision (the position; weights and counts are filled from what is read back). */
function nextPosition(ctx: TickContext, decision: Decision): void {
  const spec = policyOf(ctx).spec;
  Object.assign(
    ctx.next,
    decided(ctx.next, decision, {
      nowMs: ctx.now,
      override: ctx.override?.action,
      weightOf: (step) => stepPlan(spec, step).weight,
    }),
  );
  if (decision.action !== 'hold')
    ctx.next.lastDecision = { action: decision.action, reasons: decision.reasons, time: isoAt(ctx.now) };
  // Shown as waiting, with the gate (docs/webhooks.md): the hold's first reason, while it is a gate's.
  const gate = decision.reasons[0]?.rule === 'gate' ? decision.reasons[0].message : undefined;
  ctx.next.waitingFor = gate;
}

/**
 * The live change a decision asks for: traffic and replicas (promotion's second half is a later
 * tick's). Returns the canary's share when it is known without another read: the answer to a
 * weighted router's write, or, when no weight was written (a hold or pause at the weight already
 * given, or a weighted router's canary still getting ready for its step's weight), what this tick read.
 */
async function actuate(ctx: TickContext, decision: Decision): Promise<RouterWeight | undefined> {
  if (decision.action === 'rollback') {
    // Autoscaled (docs/hpa.md): primary first takes the serving count; the canary goes once it is ready.
    const actuator = actuatorOf(ctx);
    ctx.next.canaryReplicas = (await actuator.prepareRollback())
      ? (await actuator.rollback()).canaryReplicas
      : (targetOf(ctx).spec?.replicas ?? 0);
    return undefined;
  }
  if (decision.action === 'promote') {
    // A fast revert walked no step: primary keeps its serving count through the switch.
    await actuatorOf(ctx).startPromotion(decision.reasons.some((r) => r.rule === 'fast-revert'));
    return undefined;
  }
  return giveStepWeight(ctx, decision);
}

/** A weighted router's objects lack the step's weight, or its match or mirror (drift.ts read which they carry). */
function routesPending(ctx: TickContext, weight: number): boolean {
  if (!actuatorOf(ctx).router.weighted) return false;
  return ctx.next.effectiveWeight !== shownWeight(weight) || (ctx.routerWeight?.carries ?? 0) !== 0;
}

/**
 * The count a running canary keeps (docs/hpa.md): it is not lowered while its weight is not, under the count Kubestead
 * last gave or saw it given (its live count, when status has it). Without an HPA that is its share anyway; the user's
 * HPA, deleted mid-canary, may have left it above its share, and taking those pods away would serve the same load with
 * fewer. 0: nothing kept (a lower weight; a count someone else set is the scale stage's).
 */
function keptCanary(ctx: TickContext, weight: number): number {
  const live = targetOf(ctx).spec?.replicas ?? 0;
  return live === ctx.next.canaryReplicas && weight >= (ctx.status.canaryWeight ?? 0) ? live : 0;
}

/**
 * Whether the canary has the count a hold gives it (`given`), or one the user's HPA set that a hold leaves it
 * (docs/hpa.md, `proportional` under uneven load).
 */
const hasItsCount = (ctx: TickContext, given: number): boolean =>
  (targetOf(ctx).spec?.replicas ?? 1) === given || canaryHeldByAutoscaler(ctx);

/**
 * advance gives the next step's weight; hold and pause keep (and re-apply, idempotently) the current one,
 * and give a weighted router's canary its weight once its pods are ready (a step starts at 0 until then).
 */
async function giveStepWeight(ctx: TickContext, decision: Decision): Promise<RouterWeight | undefined> {
  const actuator = actuatorOf(ctx);
  const ready = ctx.gathered?.snapshot.rollout.canary.readyReplicas ?? 0;
  const weight = ctx.next.canaryWeight ?? 0;
  const traffic = { ...trafficOfPlan(stepPlan(policyOf(ctx).spec, ctx.next.currentStep ?? 0)), weight };
  const pending = routesPending(ctx, weight);
  const keep = keptCanary(ctx, weight);
  const unchanged =
    hasItsCount(ctx, actuator.canaryReplicasToGive(traffic, keep)) && decision.action !== 'advance' && !pending;
  if (unchanged) return unchangedWeight(ctx);
  const applied = await actuator.setCanaryTraffic(traffic, ready, keep);
  ctx.next.canaryReplicas = applied.canaryReplicas;
  if (applied.weightSet) soakFromWeightGiven(ctx);
  return applied.weightSet ? applied.weight : unchangedWeight(ctx);
}

/**
 * A weighted router's canary gets the step's weight only now (`rollout.weightGiven: false` when the tick began,
 * rules/canary-not-ready.json): the step's soak starts here, whichever rule held this tick. Now is the clock's at the
 * write, not the tick's start: a write retried for a while (a failing route) gives the weight later than it began.
 */
function soakFromWeightGiven(ctx: TickContext): void {
  if (ctx.gathered?.snapshot.rollout.weightGiven !== false) return;
  ctx.next.stepStartedAt = isoAt(ctx.shared.deps.clock.now());
  ctx.next.pausedSeconds = 0;
}

/**
 * Actuate and verify: applies the decision (shadow mode applies nothing and keeps the live counts
 * in status), reads the weight back, and says when a pause lifted by itself.
 */
export async function applyDecision(ctx: TickContext): Promise<Stop | undefined> {
  const decision = ctx.decision;
  if (!decision) return undefined;
  const wasPaused = ctx.status.phase === 'Paused';
  nextPosition(ctx, decision);
  if (wasPaused && ctx.next.phase === 'Progressing') {
    const why = ctx.override
      ? `${ctx.override.action} by ${ctx.override.actor}`
      : decision.reasons.map((r) => r.message).join('; ');
    await recordEvent(ctx, 'resumed', `resumed at step ${stepLabel(ctx.next.currentStep ?? 0, stepsOf(ctx))}: ${why}`);
  }
  if (isShadow(ctx)) {
    ctx.next.canaryReplicas = targetOf(ctx).spec?.replicas ?? 1;
    return undefined;
  }
  const known = await actuate(ctx, decision);
  ctx.shared.crash('after-actuate');
  await verifyWeight(ctx, known);
  return undefined;
}
