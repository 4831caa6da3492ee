import { imagesOf } from '../../pipeline/actuate/deployments.js';
import { rescaled } from '../../pipeline/actuate/actuator.js';
import { stepCount } from '../../pipeline/policy/strategies.js';
import { stepPlan, trafficOfPlan } from '../../pipeline/facts/steps.js';
import {
  actuatorOf,
  inRollout,
  isoAt,
  isShadow,
  noteApplied,
  policyOf,
  primaryOf,
  stop,
  type Stop,
  targetOf,
  type TickContext,
  stepsOf,
} from './context.js';
import { changedConfig, targetRevision } from './config.js';
import { recordEvent } from './record.js';
import { stepLabel } from '../../pipeline/policy/vocabulary.js';
import { canaryStarted, steppedTo, withdrawn } from '../../pipeline/actuate/transitions.js';
import { verifyWeight } from './verify.js';
import { holdStart } from './window.js';

/**
 * A change of the target's replicas that Kubestead did not make is a scale, not a release: primary
 * takes the new count, the target goes back to its canary count. A count that is exactly the next
 * step's is this controller's own advance, applied before a crash kept it out of status: status
 * catches up instead (no step repeated or skipped). A count of 0 is never read as a scale.
 */
export async function followScale(ctx: TickContext): Promise<Stop | undefined> {
  if (isShadow(ctx) || !ctx.primary) return undefined;
  const live = targetOf(ctx).spec?.replicas ?? 1;
  const expected = ctx.status.canaryReplicas ?? 0;
  if (notAScale(ctx, live, expected)) return undefined;
  const nextStep = (ctx.status.currentStep ?? 0) + 1;
  if (isNextStepCount(ctx, live, nextStep)) {
    await recordEvent(
      ctx,
      'resumed',
      `resumed: step ${stepLabel(nextStep, stepsOf(ctx))} was found applied (canary at ${live} ` +
        `replicas) after a restart; status catches up`,
    );
    Object.assign(ctx.next, steppedTo(nextStep, stepPlan(policyOf(ctx).spec, nextStep).weight, isoAt(ctx.now)));
    ctx.next.canaryReplicas = live;
    return undefined;
  }
  await rescale(ctx, { from: expected, to: live });
  return undefined;
}

/** The count Kubestead gave, 0, its own start, or the HPA's count: not a person's scale. */
function notAScale(ctx: TickContext, live: number, expected: number): boolean {
  return live === expected || live === 0 || isOwnStart(ctx, live) || scaledByAutoscaler(ctx, live);
}

/**
 * The user's HPA scaled the target: its count, not a person's scale (primary has its own HPA; docs/hpa.md). An HPA
 * deleted since the last tick (status still shows it) may have scaled it just before: its count too.
 */
function scaledByAutoscaler(ctx: TickContext, live: number): boolean {
  if (!ctx.autoscaler && !ctx.status.autoscaler) return false;
  ctx.next.canaryReplicas = live;
  return true;
}

/** A user's scale: primary takes the new count, the target goes back to its canary count for that count. */
async function rescale(ctx: TickContext, change: { from: number; to: number }): Promise<void> {
  const actuator = actuatorOf(ctx);
  const traffic = inRollout(ctx.status.phase)
    ? {
        ...trafficOfPlan(stepPlan(policyOf(ctx).spec, ctx.status.currentStep ?? 0)),
        weight: ctx.status.canaryWeight ?? 0,
      }
    : { weight: 0 };
  const canary = rescaled(actuator.router, change.to, traffic);
  await recordEvent(
    ctx,
    'scaled',
    `scaled: the target's replicas changed ${change.from} → ${change.to}, a scale and not a release: primary now ` +
      `runs ${change.to}, the canary ${canary}`,
  );
  noteApplied(ctx, await actuator.rescale(change.to, traffic));
  ctx.primary = await ctx.shared.kube.readDeployment(ctx.key.namespace, primaryOf(ctx).metadata?.name ?? '');
}

/**
 * A new template whose canary already has step 0's count: this controller started it before a crash kept it out of
 * status.
 */
function isOwnStart(ctx: TickContext, live: number): boolean {
  const revision = targetRevision(ctx);
  if (revision === ctx.next.stableRevision || revision === ctx.next.canaryRevision) return false;
  return live === actuatorOf(ctx).canaryReplicasForTraffic(trafficOfPlan(stepPlan(policyOf(ctx).spec, 0)));
}

/** Whether a live canary count is the one this controller gives the next step (its own advance, not yet in status). */
function isNextStepCount(ctx: TickContext, live: number, nextStep: number): boolean {
  const spec = policyOf(ctx).spec;
  if (!inRollout(ctx.status.phase) || nextStep >= stepCount(spec)) return false;
  return live === actuatorOf(ctx).canaryReplicasForTraffic(trafficOfPlan(stepPlan(spec, nextStep)));
}

/**
 * A new template of the target starts a canary at step 0; a new one during a canary restarts the
 * analysis at step 0 and says so; the stable template again ends the canary.
 */
export async function followTemplate(ctx: TickContext): Promise<Stop | undefined> {
  const revision = targetRevision(ctx);
  const { phase, stableRevision, canaryRevision } = ctx.next;
  if (phase === 'Promoting' || revision === canaryRevision) return undefined;
  if (revision === stableRevision) return inRollout(phase) ? withdraw(ctx) : undefined;
  const restart = inRollout(phase);
  const held = restart ? undefined : await holdStart(ctx, revision);
  if (held) return held;
  await recordStart(ctx, { revision, was: canaryRevision, restart });
  const plan = stepPlan(policyOf(ctx).spec, 0);
  Object.assign(ctx.next, canaryStarted(revision, plan.weight, isoAt(ctx.now)));
  if (isShadow(ctx)) return stop('shadow canary started at its first step', ctx.intervalMs);
  const applied = await actuatorOf(ctx).setCanaryTraffic(trafficOfPlan(plan), 0);
  noteApplied(ctx, applied);
  ctx.shared.crash('after-actuate');
  await verifyWeight(ctx, applied.weight);
  return stop(`canary started at its first step (weight ${plan.weight}%)`, ctx.intervalMs);
}

/**
 * The record of a canary's start: restarted analysis, a new canary, or — when its canary already
 * has step 0's count — this controller's own start, applied before a crash kept it out of status.
 */
async function recordStart(
  ctx: TickContext,
  start: { revision: string; was: string | undefined; restart: boolean },
): Promise<void> {
  const target = targetOf(ctx);
  const images = imagesOf(target.spec?.template);
  const live = target.spec?.replicas ?? 0;
  if (!start.restart && !isShadow(ctx) && live > 0 && isOwnStart(ctx, live)) {
    await recordEvent(
      ctx,
      'resumed',
      `resumed: the canary of revision ${start.revision} was found started (${live} replicas) after a restart; ` +
        `status catches up`,
    );
    return;
  }
  const first = stepLabel(0, stepsOf(ctx));
  const config = await changedConfig(ctx);
  const [what, detail] = config ? ['new revision', `config changed: ${config}; ${images}`] : ['new template', images];
  await recordEvent(
    ctx,
    start.restart ? 'restarted' : 'canary-started',
    start.restart
      ? `${what} during the canary (${detail}, revision ${start.revision}, was ${start.was ?? '?'}): the ` +
          `analysis restarts at step ${first}`
      : `${what} (${detail}, revision ${start.revision}): canary starts at step ${first}`,
  );
}

/** The target's template is the stable one again (reverted by hand or by Git): the canary ends, primary untouched. */
async function withdraw(ctx: TickContext): Promise<Stop> {
  await recordEvent(
    ctx,
    'canary-withdrawn',
    `the target's template is the stable revision ${ctx.status.stableRevision ?? ''} again: the canary ends`,
  );
  Object.assign(ctx.next, withdrawn());
  if (!isShadow(ctx)) noteApplied(ctx, await actuatorOf(ctx).rollback());
  if (!isShadow(ctx)) await verifyWeight(ctx);
  return stop('canary withdrawn', ctx.intervalMs);
}
