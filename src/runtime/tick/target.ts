import type { V1Deployment } from '@kubernetes/client-node';
import type { PolicySpec } from '../../pipeline/policy/schema.js';
import { createRouter } from '../../adapters/routers/factory.js';
import type { TrafficRouter } from '../../adapters/routers/router.js';
import { alreadyShown, condition } from './conditions.js';
import { policyOf, stop, type Stop, type TickContext } from './context.js';
import { isOwnedByKubestead, policyOwner } from '../../adapters/kube/names.js';
import { recordEvent } from './record.js';
import { primaryName } from '../../pipeline/policy/vocabulary.js';
import { autoscalerSummary, usersAutoscaler } from '../../adapters/kube/autoscalers.js';
import { autoscalerObserved } from '../../pipeline/actuate/transitions.js';

/** A Deployment from the cache, or from the API when the cache has not seen our own last write yet. */
export async function freshDeployment(ctx: TickContext, name: string): Promise<V1Deployment | undefined> {
  const cached = ctx.shared.deps.cache.deployment(ctx.key.namespace, name);
  if (cached && !ctx.shared.kube.isStale('deployment', cached)) return cached;
  return cached ? ctx.shared.kube.readDeployment(ctx.key.namespace, name) : undefined;
}

/** The policy's router for its target `name` (the objects it creates are owned by the policy). */
export function routerFor(ctx: TickContext, spec: PolicySpec, name: string): TrafficRouter {
  const meta = ctx.raw.metadata ?? {};
  const owner = policyOwner(ctx.key.name, meta.uid ?? '');
  const target = { namespace: ctx.key.namespace, canary: name, primary: primaryName(name), owner, spec };
  return createRouter({ target, clients: ctx.shared.deps.clients, clock: ctx.shared.deps.clock });
}

/** Ready=False with an Event, sent once per reason and message. */
async function notReady(
  ctx: TickContext,
  reason: string,
  message: string,
  requeueAfterMs: number | null,
): Promise<Stop> {
  if (!alreadyShown(ctx, 'Ready', reason, message)) await recordEvent(ctx, reason, message);
  condition(ctx, 'Ready', false, { reason, message });
  return stop(message, requeueAfterMs);
}

/** The RolloutPolicy that owns a primary Deployment (its ownerReference), if any. */
function owningPolicy(primary: V1Deployment): { name: string; uid: string } | undefined {
  const ref = primary.metadata?.ownerReferences?.find((r) => r.kind === 'RolloutPolicy');
  return ref ? { name: ref.name, uid: ref.uid } : undefined;
}

/** Why another owner holds this primary (another policy, or nobody: a Deployment Kubestead did not make), or null. */
function claimProblem(ctx: TickContext, primary: V1Deployment): string | null {
  const owner = owningPolicy(primary);
  const ns = ctx.key.namespace;
  const target = policyOf(ctx).spec.targetRef.name;
  if (owner && owner.uid !== ctx.raw.metadata?.uid) {
    return (
      `Deployment ${ns}/${target} is already managed by RolloutPolicy ${ns}/${owner.name}; a Deployment can ` +
      `have one policy`
    );
  }
  const managed = isOwnedByKubestead(primary.metadata);
  if (!owner && !managed)
    return `Deployment ${ns}/${primaryName(target)} exists and was not made by Kubestead; rename it or remove it`;
  return null;
}

/**
 * Resolves the target Deployment, its primary and the router. A missing target is Ready=False
 * TargetMissing (picked up again once it appears); a Deployment another policy already manages
 * refuses this one (TargetClaimed); a router whose objects are missing is Ready=False.
 */
export async function resolveTarget(ctx: TickContext): Promise<Stop | undefined> {
  const { namespace } = ctx.key;
  const spec = policyOf(ctx).spec;
  const name = spec.targetRef.name;
  ctx.target = await freshDeployment(ctx, name);
  if (!ctx.target) return notReady(ctx, 'TargetMissing', `Deployment ${namespace}/${name} not found`, ctx.intervalMs);
  ctx.autoscaler = usersAutoscaler(ctx.shared.deps.cache.autoscalers(namespace, name));
  Object.assign(ctx.next, autoscalerObserved(ctx.autoscaler && autoscalerSummary(ctx.autoscaler)));
  ctx.primary = await freshDeployment(ctx, primaryName(name));
  const claimed = ctx.primary ? claimProblem(ctx, ctx.primary) : null;
  if (claimed) {
    ctx.primary = undefined;
    return notReady(ctx, 'TargetClaimed', claimed, ctx.intervalMs);
  }
  ctx.router = routerFor(ctx, spec, name);
  const problem = await ctx.router.prepare();
  if (problem) return notReady(ctx, problem.reason, problem.message, ctx.intervalMs);
  condition(ctx, 'Ready', true, {
    reason: 'Ready',
    message: `target Deployment ${namespace}/${name} and ${ctx.router.kind} routing found`,
  });
  return undefined;
}
