import { deleteCopies } from './config.js';
import { readModifyWrite } from '../../adapters/kube/objects.js';
import type { V1Deployment } from '@kubernetes/client-node';
import { imagesOf, rolledOut, stableTemplateOf } from '../../pipeline/actuate/deployments.js';
import { templateHash } from './revision.js';
import { RouterStateError } from '../../adapters/routers/weighted-router.js';
import { stop, WAIT_MS, type Stop, type TickContext } from './context.js';
import { FINALIZER } from '../../adapters/kube/names.js';
import { recordEvent } from './record.js';
import { recordUserWrites } from './verify.js';
import { primaryAutoscaler } from './context.js';
import { freshDeployment, routerFor } from './target.js';
import { primaryName } from '../../pipeline/policy/vocabulary.js';

const replicasOf = (d: V1Deployment): number => d.spec?.replicas ?? 1;
const finalizersOf = (ctx: TickContext): string[] => ctx.raw.metadata?.finalizers ?? [];

/** Active policies carry the finalizer, so that deleting one hands the workload back first. */
export async function ensureFinalizer(ctx: TickContext): Promise<Stop | undefined> {
  if (ctx.policy?.spec.mode === 'shadow' || finalizersOf(ctx).includes(FINALIZER)) return undefined;
  ctx.raw = await ctx.shared.kube.patchPolicyMetadata(ctx.raw, { finalizers: [...finalizersOf(ctx), FINALIZER] });
  return undefined;
}

const ownedBy = (primary: V1Deployment, uid: string | undefined): boolean =>
  primary.metadata?.ownerReferences?.some((r) => r.kind === 'RolloutPolicy' && r.uid === uid) ?? false;

/** The target's name, read loosely: a policy being deleted may be invalid, and still hands back. */
function targetName(ctx: TickContext): string | undefined {
  const spec = ctx.raw.spec as { targetRef?: { name?: unknown } } | undefined;
  return typeof spec?.targetRef?.name === 'string' ? spec.targetRef.name : undefined;
}

/**
 * Deletion of the policy hands the workload back: a canary in progress is rolled back first (the target
 * gets primary's stable template), the target is scaled to primary's count and, once it is ready, the router releases the user's routing, primary is deleted and the finalizer
 * removed; an Event says which template runs.
 */
export async function handBack(ctx: TickContext): Promise<Stop> {
  if (!finalizersOf(ctx).includes(FINALIZER)) return stop('being deleted', null);
  const name = targetName(ctx);
  if (name) {
    const waiting = await restoreTarget(ctx, name);
    // The policy stays (its finalizer held) while the hand-back waits: the log says what for.
    if (waiting) {
      ctx.log.info(waiting.why);
      return waiting;
    }
  }
  ctx.raw = await ctx.shared.kube.patchPolicyMetadata(ctx.raw, {
    finalizers: finalizersOf(ctx).filter((f) => f !== FINALIZER),
  });
  return stop('handed back; finalizer removed', null);
}

/**
 * The target back at primary's count and ready, then the routing released and primary deleted; a
 * Stop while the target is not ready yet. Without a primary of ours (never adopted, or deleted
 * before a restart) the routing is still released: a router may have set it up before adoption.
 */
async function restoreTarget(ctx: TickContext, name: string): Promise<Stop | undefined> {
  const target = await freshDeployment(ctx, name);
  const primary = await freshDeployment(ctx, primaryName(name));
  ctx.target = target;
  if (!target || !primary || !ownedBy(primary, ctx.raw.metadata?.uid)) {
    await releaseRouting(ctx, name);
    return undefined;
  }
  const waiting = (await restoreStable(ctx, target, primary)) ?? (await scaleToServing(ctx, target, primary));
  if (waiting) return waiting;
  const want = replicasOf(primary);
  await releaseRouting(ctx, name);
  await ctx.shared.kube.deleteDeployment(ctx.key.namespace, primaryName(name), primary.metadata?.uid);
  // The user's HPA scales the target again from here (it is no longer at 0); primary's copy goes with primary.
  const autoscaler = primaryAutoscaler(ctx, name);
  if (autoscaler)
    await ctx.shared.kube.deleteAutoscaler(ctx.key.namespace, primaryName(name), autoscaler.metadata?.uid);
  const copies = await deleteCopies(ctx, primary);
  await recordEvent(
    ctx,
    'handed-back',
    `handed back: Deployment ${ctx.key.namespace}/${name} runs its own template (${imagesOf(target.spec?.template)}) ` +
      `at ${want} replicas; ${[primaryName(name), ...copies].join(', ')} deleted`,
  );
  return undefined;
}

/** The target scaled to primary's count and ready; a Stop while it is not yet. */
async function scaleToServing(
  ctx: TickContext,
  target: V1Deployment,
  primary: V1Deployment,
): Promise<Stop | undefined> {
  const name = target.metadata?.name ?? '';
  const want = replicasOf(primary);
  // The rollback's write (the stable template at 0) done by the Deployment controller first: the canary's pods gone
  // before the stable ones come, not a rolling update between them that unready stable pods would hold halfway.
  if (replicasOf(target) === 0 && !rolledOut(target))
    return stop(`handing back: waiting for ${name}'s canary pods to go`, WAIT_MS);
  if (replicasOf(target) !== want) {
    await ctx.shared.kube.scale(ctx.key.namespace, name, want);
    return stop(`handing back: ${name} scaled to ${want}; waiting for it to be ready`, WAIT_MS);
  }
  return rolledOut(target) ? undefined : stop(`handing back: waiting for ${name} to be ready`, WAIT_MS);
}

/**
 * The canary is not verified: before the user's Deployment takes the traffic back, it is rolled back — a weighted
 * router's canary share set to 0, then the target given primary's (stable) template at 0 replicas in one write,
 * recorded first (an Event and the audit chain). restoreTarget then scales it to primary's count as for any hand-back.
 * Nothing when the target already runs the stable template.
 */
async function restoreStable(ctx: TickContext, target: V1Deployment, primary: V1Deployment): Promise<Stop | undefined> {
  const stable = stableTemplateOf(primary.spec?.template);
  if (templateHash(stable) === templateHash(target.spec?.template)) return undefined;
  const validated = ctx.shared.policies.validate(ctx.raw);
  if ('policy' in validated) await routerFor(ctx, validated.policy.spec, target.metadata?.name ?? '').setWeight(0);
  const { namespace = '', name = '' } = target.metadata ?? {};
  await recordEvent(
    ctx,
    'hand-back-rollback',
    `handing back: the canary (${imagesOf(target.spec?.template)}) was not verified; rolled back: Deployment ` +
      `${namespace}/${name} gets the stable template (${imagesOf(stable)}) back`,
  );
  // Its controller (or the user's HPA) writes the Deployment often: read fresh, and once more after a conflict.
  await readModifyWrite(
    () => ctx.shared.kube.readDeployment(namespace, name),
    (live) => (live?.spec ? { ...live, spec: { ...live.spec, template: stable, replicas: 0 } } : undefined),
    (next) => ctx.shared.kube.replaceDeployment(next),
  );
  return stop(`handing back: ${name} rolled back to the stable template; scaling it next`, WAIT_MS);
}

/**
 * A weighted router's objects go back to the user: their routes send to the user's Service again
 * and what Kubestead created beside them is deleted — while primary still serves, before it goes.
 * A policy that no longer validates cannot name its router: what Kubestead created is owned by the
 * policy and goes with it. Routing objects the user already removed leave nothing to release.
 */
async function releaseRouting(ctx: TickContext, name: string): Promise<void> {
  const validated = ctx.shared.policies.validate(ctx.raw);
  if (!('policy' in validated)) return;
  const router = routerFor(ctx, validated.policy.spec, name);
  try {
    await router.release?.();
    await recordUserWrites(ctx, router);
  } catch (error) {
    if (!(error instanceof RouterStateError)) throw error;
    ctx.log.info({ router: router.kind, why: error.message }, 'nothing of the routing to release');
  }
}
