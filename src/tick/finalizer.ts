import type { V1Deployment } from '@kubernetes/client-node';
import { imagesOf, rolledOut } from '../actuate/deployments.js';
import { stop, WAIT_MS, type Stop, type TickContext } from './context.js';
import { FINALIZER, primaryName } from './names.js';
import { recordEvent } from './record.js';
import { freshDeployment } from './target.js';

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
 * Deletion of the policy hands the workload back: the target is scaled to primary's count and,
 * once it is ready, primary is deleted and the finalizer removed; an Event says which template runs.
 */
export async function handBack(ctx: TickContext): Promise<Stop> {
  if (!finalizersOf(ctx).includes(FINALIZER)) return stop('being deleted', null);
  const name = targetName(ctx);
  if (name) {
    const waiting = await restoreTarget(ctx, name);
    if (waiting) return waiting;
  }
  ctx.raw = await ctx.shared.kube.patchPolicyMetadata(ctx.raw, { finalizers: finalizersOf(ctx).filter((f) => f !== FINALIZER) });
  return stop('handed back; finalizer removed', null);
}

/** The target back at primary's count and ready, then primary deleted; a Stop while the target is not ready yet. */
async function restoreTarget(ctx: TickContext, name: string): Promise<Stop | undefined> {
  const target = await freshDeployment(ctx, name);
  const primary = await freshDeployment(ctx, primaryName(name));
  ctx.target = target;
  if (!target || !primary || !ownedBy(primary, ctx.raw.metadata?.uid)) return undefined;
  const want = replicasOf(primary);
  if (replicasOf(target) !== want) {
    await ctx.shared.kube.scale(ctx.key.namespace, name, want);
    return stop(`handing back: ${name} scaled to ${want}; waiting for it to be ready`, WAIT_MS);
  }
  if (!rolledOut(target)) return stop(`handing back: waiting for ${name} to be ready`, WAIT_MS);
  await ctx.shared.kube.deleteDeployment(ctx.key.namespace, primaryName(name), primary.metadata?.uid);
  await recordEvent(ctx, 'handed-back', `handed back: Deployment ${ctx.key.namespace}/${name} runs its own template (${imagesOf(target.spec?.template)}) at ${want} replicas; ${primaryName(name)} deleted`);
  return undefined;
}
