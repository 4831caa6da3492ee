import { Actuator, type Applied } from '../../pipeline/actuate/actuator.js';
import { imagesOf, rolledOut } from '../../pipeline/actuate/deployments.js';
import { stepPlan } from '../../pipeline/facts/steps.js';
import { replicaShare } from '../../adapters/routers/replicas.js';
import type { RouterWeight } from '../../adapters/routers/router.js';
import { alreadyShown, condition } from './conditions.js';
import { isoAt, policyOf, primaryOf, routerOf, stop, targetOf, WAIT_MS, type Stop, type TickContext } from './context.js';
import { templateHash } from './revision.js';
import { recordEvent } from './record.js';
import { stepLabel } from '../../pipeline/policy/vocabulary.js';

const ACTIVE_PHASES: readonly string[] = ['Progressing', 'Paused'];
export const inRollout = (phase: string | undefined): boolean => phase !== undefined && ACTIVE_PHASES.includes(phase);
export const isShadow = (ctx: TickContext): boolean => policyOf(ctx).spec.mode === 'shadow';

export function actuatorOf(ctx: TickContext): Actuator {
  return new Actuator(ctx.shared.kube, routerOf(ctx), { namespace: ctx.key.namespace, target: targetOf(ctx), primary: primaryOf(ctx) });
}

/** Status after an actuation: what /scale read back. */
function noteApplied(ctx: TickContext, applied: Applied): void {
  ctx.next.canaryReplicas = applied.canaryReplicas;
}

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
  if (live === expected || live === 0 || isOwnStart(ctx, live)) return undefined;
  const nextStep = (ctx.status.currentStep ?? 0) + 1;
  if (isNextStepCount(ctx, live, nextStep)) {
    await recordEvent(ctx, 'resumed', `resumed: step ${stepLabel(nextStep, ctx.policy?.spec.steps.length)} was found applied (canary at ${live} replicas) after a restart; status catches up`);
    enterStep(ctx, nextStep);
    ctx.next.canaryReplicas = live;
    return undefined;
  }
  await rescale(ctx, { from: expected, to: live });
  return undefined;
}

/** A user's scale: primary takes the new count, the target goes back to its canary count for that count. */
async function rescale(ctx: TickContext, change: { from: number; to: number }): Promise<void> {
  const actuator = actuatorOf(ctx);
  const weight = inRollout(ctx.status.phase) ? (ctx.status.canaryWeight ?? 0) : 0;
  const canary = actuator.router.canaryReplicas(weight, change.to);
  await recordEvent(ctx, 'scaled', `scaled: the target's replicas changed ${change.from} → ${change.to}, a scale and not a release: primary now runs ${change.to}, the canary ${canary}`);
  noteApplied(ctx, await actuator.rescale(change.to, weight));
  ctx.primary = await ctx.shared.kube.readDeployment(ctx.key.namespace, primaryOf(ctx).metadata?.name ?? '');
}

/** A new template whose canary already has step 0's count: this controller started it before a crash kept it out of status. */
function isOwnStart(ctx: TickContext, live: number): boolean {
  const revision = templateHash(targetOf(ctx).spec?.template);
  if (revision === ctx.next.stableRevision || revision === ctx.next.canaryRevision) return false;
  return live === actuatorOf(ctx).canaryReplicasFor(stepPlan(policyOf(ctx).spec, 0).weight);
}

/** Whether a live canary count is the one this controller gives the next step (its own advance, not yet in status). */
function isNextStepCount(ctx: TickContext, live: number, nextStep: number): boolean {
  const spec = policyOf(ctx).spec;
  if (!inRollout(ctx.status.phase) || nextStep >= spec.steps.length) return false;
  return live === actuatorOf(ctx).canaryReplicasFor(stepPlan(spec, nextStep).weight);
}

/** Status of a step just entered: its clock starts now, unpaused. */
export function enterStep(ctx: TickContext, step: number): void {
  Object.assign(ctx.next, {
    phase: 'Progressing', currentStep: step, stepStartedAt: isoAt(ctx.now), pausedSeconds: 0, pausedSince: undefined,
    manualPause: false, canaryWeight: stepPlan(policyOf(ctx).spec, step).weight,
  });
}

/** Status fields of a canary that starts at step 0. */
function startStatus(ctx: TickContext, revision: string): void {
  const plan = stepPlan(policyOf(ctx).spec, 0);
  Object.assign(ctx.next, {
    phase: 'Progressing', currentStep: 0, canaryRevision: revision, stepStartedAt: isoAt(ctx.now), pausedSeconds: 0,
    pausedSince: undefined, manualPause: false, canaryWeight: plan.weight, checks: undefined, lastDecision: undefined,
  });
}

/**
 * A new template of the target starts a canary at step 0; a new one during a canary restarts the
 * analysis at step 0 and says so; the stable template again ends the canary.
 */
export async function followTemplate(ctx: TickContext): Promise<Stop | undefined> {
  const target = targetOf(ctx);
  const revision = templateHash(target.spec?.template);
  const { phase, stableRevision, canaryRevision } = ctx.next;
  if (phase === 'Promoting' || revision === canaryRevision) return undefined;
  if (revision === stableRevision) return inRollout(phase) ? withdraw(ctx) : undefined;
  const restart = inRollout(phase);
  await recordStart(ctx, { revision, was: canaryRevision, restart });
  startStatus(ctx, revision);
  if (isShadow(ctx)) return stop('shadow canary started at its first step', ctx.intervalMs);
  const plan = stepPlan(policyOf(ctx).spec, 0);
  const applied = await actuatorOf(ctx).setCanaryWeight(plan.weight, 0);
  noteApplied(ctx, applied);
  ctx.shared.crash('after-actuate');
  await verifyWeight(ctx, applied.weight);
  return stop(`canary started at its first step (weight ${plan.weight}%)`, ctx.intervalMs);
}

/**
 * The record of a canary's start: restarted analysis, a new canary, or — when its canary already
 * has step 0's count — this controller's own start, applied before a crash kept it out of status.
 */
async function recordStart(ctx: TickContext, start: { revision: string; was: string | undefined; restart: boolean }): Promise<void> {
  const target = targetOf(ctx);
  const images = imagesOf(target.spec?.template);
  const live = target.spec?.replicas ?? 0;
  if (!start.restart && !isShadow(ctx) && live > 0 && isOwnStart(ctx, live)) {
    await recordEvent(ctx, 'resumed', `resumed: the canary of revision ${start.revision} was found started (${live} replicas) after a restart; status catches up`);
    return;
  }
  const first = stepLabel(0, policyOf(ctx).spec.steps.length);
  await recordEvent(ctx, start.restart ? 'restarted' : 'canary-started', start.restart
    ? `new template during the canary (${images}, revision ${start.revision}, was ${start.was ?? '?'}): the analysis restarts at step ${first}`
    : `new template (${images}, revision ${start.revision}): canary starts at step ${first}`);
}

/** The target's template is the stable one again (reverted by hand or by Git): the canary ends, primary untouched. */
async function withdraw(ctx: TickContext): Promise<Stop> {
  await recordEvent(ctx, 'canary-withdrawn', `the target's template is the stable revision ${ctx.status.stableRevision ?? ''} again: the canary ends`);
  Object.assign(ctx.next, { phase: 'Idle', canaryWeight: 0, canaryRevision: undefined, pausedSince: undefined, manualPause: false });
  if (!isShadow(ctx)) noteApplied(ctx, await actuatorOf(ctx).rollback());
  if (!isShadow(ctx)) await verifyWeight(ctx);
  return stop('canary withdrawn', ctx.intervalMs);
}

/** Promotion, second half: once primary has rolled out the canary's template, the canary goes to 0. */
export async function continuePromotion(ctx: TickContext): Promise<Stop | undefined> {
  if (ctx.status.phase !== 'Promoting') return undefined;
  if (isShadow(ctx)) {
    Object.assign(ctx.next, { phase: 'Succeeded', stableRevision: ctx.status.canaryRevision, canaryWeight: 0 });
    return stop('shadow promotion complete', ctx.intervalMs);
  }
  const primary = primaryOf(ctx);
  if (!rolledOut(primary)) return stop(`waiting for ${primary.metadata?.name ?? ''} to roll out the canary's template`, WAIT_MS);
  await recordEvent(ctx, 'succeeded', `promotion complete: ${primary.metadata?.name ?? ''} runs ${imagesOf(primary.spec?.template)} at ${primary.spec?.replicas ?? 0} replicas`);
  noteApplied(ctx, await actuatorOf(ctx).finishPromotion());
  Object.assign(ctx.next, { phase: 'Succeeded', stableRevision: ctx.status.canaryRevision, canaryWeight: 0, pausedSince: undefined, manualPause: false });
  await verifyWeight(ctx);
  return stop('promoted', ctx.intervalMs);
}

/** Nothing to analyse outside a rollout: an idle policy reads its cache and writes nothing. */
export function idleGate(ctx: TickContext): Promise<Stop | undefined> {
  return Promise.resolve(inRollout(ctx.next.phase) ? undefined : stop(`${ctx.next.phase ?? 'no phase'}: nothing to analyse`, ctx.intervalMs));
}

/**
 * The weight of a tick that wrote none, as this tick already read it: a weighted router's as the drift
 * phase read it (an edit since then is the next tick's drift, not a weight to keep), the replica
 * split as the Deployments this tick read show it (the cache, or the API when the cache had not seen
 * our own last write), so they need not be read again, twice, from the API.
 */
export function unchangedWeight(ctx: TickContext): RouterWeight | undefined {
  if (routerOf(ctx).kind !== 'replicas') return ctx.routerWeight;
  if (!ctx.primary) return undefined;
  const canary = targetOf(ctx).spec?.replicas ?? 0;
  const stable = primaryOf(ctx).spec?.replicas ?? 0;
  return { weight: replicaShare(canary, stable), detail: `replicas: ${canary} canary, ${stable} primary` };
}

/**
 * Verify: the live weight (never the one intended) goes to status: `known` when this tick already
 * has it (the answer to its own write, or what it read when it wrote no weight: unchangedWeight),
 * otherwise read back from the live objects.
 */
export async function verifyWeight(ctx: TickContext, known?: RouterWeight): Promise<void> {
  const live = known ?? await routerOf(ctx).getWeight();
  ctx.next.effectiveWeight = Math.round(live.weight * 10_000) / 10_000;
  const asked = ctx.next.canaryWeight ?? 0;
  // A weighted router gives the step's share exactly or keeps the last one while the canary's pods get ready (drift.ts).
  const far = asked > 0 && routerOf(ctx).kind === 'replicas' && Math.abs(live.weight - asked) > Math.max(1, asked * 0.25);
  if (far) {
    const message = `weight ${asked}% asked, ${routerOf(ctx).kind} routing gives ${ctx.next.effectiveWeight}% (${live.detail})`;
    if (!alreadyShown(ctx, 'Degraded', 'WeightDrift', message)) await recordEvent(ctx, 'weight-drift', message);
    condition(ctx, 'Degraded', true, { reason: 'WeightDrift', message });
  }
}
