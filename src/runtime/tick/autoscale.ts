import type { V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import { inStep, primaryAutoscalerFrom, primaryAutoscalerSpec, withFloor } from '../../pipeline/actuate/autoscaler.js';
import { isConflict } from '../../adapters/kube/errors.js';
import { readModifyWrite } from '../../adapters/kube/objects.js';
import { policyOwner } from '../../adapters/kube/names.js';
import { isShadow, primaryAutoscaler, type Stop, type TickContext } from './context.js';

import { recordEvent } from './record.js';
import { rollbackWaits } from './rollback.js';

const minimumOf = (hpa: V2HorizontalPodAutoscaler): number => hpa.spec?.minReplicas ?? 1;

const bounds = (hpa: V2HorizontalPodAutoscaler): string =>
  `${hpa.spec?.minReplicas ?? 1}–${hpa.spec?.maxReplicas ?? '?'} replicas`;

/**
 * The primary is autoscaled (docs/hpa.md): while the target has a user's HPA, `<target>-primary` has its own, a copy
 * of the user's spec aimed at primary, rewritten whenever the user's changes; without one the copy goes. The user's
 * HPA is never written. A 409 (the cache had not seen our last write yet) is left to the next tick.
 */
export async function followAutoscaler(ctx: TickContext): Promise<Stop | undefined> {
  if (isShadow(ctx) || !ctx.primary) return undefined;
  const copy = primaryAutoscaler(ctx, ctx.target?.metadata?.name ?? '');
  try {
    await bringInStep(ctx, copy, ctx.autoscaler);
  } catch (error) {
    if (!isConflict(error)) throw error;
    ctx.log.info({ why: (error as Error).message }, "primary's HPA changed meanwhile; the next tick looks again");
  }
  return undefined;
}

async function bringInStep(
  ctx: TickContext,
  copy: V2HorizontalPodAutoscaler | undefined,
  user: V2HorizontalPodAutoscaler | undefined,
): Promise<void> {
  if (!user) return copy ? removeCopy(ctx, copy) : undefined;
  if (!copy) return createCopy(ctx, user);
  if (!inStep(copy, user, promotionFloor(ctx))) return updateCopy(ctx, copy, user);
}

/**
 * While a promotion lasts, or a rollback waits for primary to serve the whole load (rollback.ts), primary's HPA keeps
 * the count primary was given for the whole load as its minimum.
 */
const promotionFloor = (ctx: TickContext): number | undefined =>
  ctx.status.phase === 'Promoting' || rollbackWaits(ctx) ? (ctx.primary?.spec?.replicas ?? undefined) : undefined;

async function createCopy(ctx: TickContext, user: V2HorizontalPodAutoscaler): Promise<void> {
  const owner = policyOwner(ctx.key.name, ctx.raw.metadata?.uid ?? '');
  const created = await ctx.shared.kube.createAutoscaler(
    ctx.key.namespace,
    primaryAutoscalerFrom(user, ctx.key.namespace, owner),
  );
  await recordEvent(
    ctx,
    'autoscaler-created',
    `${created.metadata?.name ?? ''} is autoscaled by its own HPA, a copy of the user's HPA ${user.metadata?.name ?? ''} ` +
      `(${bounds(user)}); the user's HPA is not changed`,
  );
}

async function updateCopy(
  ctx: TickContext,
  copy: V2HorizontalPodAutoscaler,
  user: V2HorizontalPodAutoscaler,
): Promise<void> {
  const floor = promotionFloor(ctx);
  const name = copy.metadata?.name ?? '';
  let replaced: V2HorizontalPodAutoscaler | undefined;
  // Kubernetes' HPA controller writes the copy's status on its own, which changes its resourceVersion: re-read on 409.
  await readModifyWrite(
    () => ctx.shared.kube.readAutoscaler(ctx.key.namespace, name),
    (current) => {
      if (inStep(current, user, floor)) return undefined;
      replaced = current;
      return { ...current, spec: withFloor(primaryAutoscalerSpec(user), floor) };
    },
    (next) => ctx.shared.kube.replaceAutoscaler(next),
  );
  if (!replaced) return;
  const [reason, message] = updateNamed(replaced, user, floor);
  await recordEvent(ctx, reason, message);
}

/**
 * What an update of primary's HPA is: the end of the minimum a promotion or a rollback held (the copy differed from the
 * user's spec in its raised minReplicas alone), the held minimum raised, or a change of the user's HPA copied.
 */
function updateNamed(
  copy: V2HorizontalPodAutoscaler,
  user: V2HorizontalPodAutoscaler,
  floor: number | undefined,
): [string, string] {
  const name = copy.metadata?.name ?? '';
  const [held, own] = [minimumOf(copy), minimumOf(user)];
  // Only the minimum differs from the user's spec: the held one is raised or given back.
  const minimumOnly = inStep(copy, user, held);
  if (minimumOnly && floor === undefined && held > own)
    return [
      'autoscaler-minimum-restored',
      `${name}'s HPA gets the user's minReplicas ${own} back: the ${held} it held while primary took the whole load ` +
        `are no longer needed (${bounds(user)})`,
    ];
  if (minimumOnly && floor !== undefined)
    return [
      'autoscaler-minimum-held',
      `${name}'s HPA holds ${minimumOf({ spec: withFloor(primaryAutoscalerSpec(user), floor) })} replicas as its ` +
        `minimum while primary takes the whole load (the user's HPA: ${bounds(user)})`,
    ];
  return [
    'autoscaler-updated',
    `the user's HPA ${user.metadata?.name ?? ''} changed: ${name}'s HPA follows it (${bounds(user)})`,
  ];
}

async function removeCopy(ctx: TickContext, copy: V2HorizontalPodAutoscaler): Promise<void> {
  const name = copy.metadata?.name ?? '';
  await ctx.shared.kube.deleteAutoscaler(ctx.key.namespace, name, copy.metadata?.uid);
  await recordEvent(
    ctx,
    'autoscaler-removed',
    `the target has no HPA any more: ${name}'s HPA is deleted; ${name} keeps its ${ctx.primary?.spec?.replicas ?? 1} ` +
      `replicas`,
  );
}
