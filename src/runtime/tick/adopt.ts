import type { V1Deployment } from '@kubernetes/client-node';
import { Actuator, syncCopies } from '../../pipeline/actuate/actuator.js';
import { imagesOf, primaryFrom, rolledOut } from '../../pipeline/actuate/deployments.js';
import { servingCount } from '../../pipeline/actuate/autoscaler.js';
import { policyOf, routerOf, stop, targetOf, WAIT_MS, type Stop, type TickContext } from './context.js';
import { isConflict } from '../../adapters/kube/errors.js';
import { policyOwner } from '../../adapters/kube/names.js';
import { targetRevision } from './config.js';
import { rememberStable } from './promotion.js';
import { recordEvent } from './record.js';
import { primaryName } from '../../pipeline/policy/vocabulary.js';
import { adopted } from '../../pipeline/actuate/transitions.js';

/** Status of a policy that has just taken a workload over (or, in shadow mode, only looked at it). */
function idleStatus(ctx: TickContext, canaryReplicas: number): void {
  const { conditions, audit, report, lastOverride, autoscaler } = ctx.next;
  ctx.next = {
    conditions,
    audit,
    report,
    lastOverride,
    autoscaler,
    ...adopted(targetRevision(ctx), canaryReplicas),
  };
  rememberStable(ctx);
}

/**
 * Adoption: `<target>-primary` is created from the target's template and, once it is ready, the
 * target is scaled to 0; from then on the target's pods are the canary. In shadow mode nothing is
 * created: the policy only notes the running template as stable.
 */
export async function adopt(ctx: TickContext): Promise<Stop | undefined> {
  if (policyOf(ctx).spec.mode === 'shadow') {
    if (!ctx.status.phase) idleStatus(ctx, targetOf(ctx).spec?.replicas ?? 1);
    return undefined;
  }
  const adopted =
    ctx.primary !== undefined && ctx.status.phase !== undefined && ctx.status.stableRevision !== undefined;
  if (adopted) return undefined;
  return ctx.primary ? takeOver(ctx, ctx.primary) : createPrimary(ctx);
}

/** Primary exists: once it is ready, the target goes to 0 and the policy is Idle. */
async function takeOver(ctx: TickContext, primary: V1Deployment): Promise<Stop> {
  const target = targetOf(ctx);
  const name = target.metadata?.name ?? '';
  if (!rolledOut(primary)) return stop(`waiting for ${primaryName(name)} to be ready`, WAIT_MS);
  const serving = target.spec?.replicas ?? 1;
  if (ctx.autoscaler && (primary.spec?.replicas ?? 1) < serving) {
    // The HPA scaled the target up while primary was starting: primary takes that count before the target goes.
    await ctx.shared.kube.scale(ctx.key.namespace, primaryName(name), serving);
    return stop(
      `${primaryName(name)} scaled to the ${serving} replicas that serve; waiting for it to be ready`,
      WAIT_MS,
    );
  }
  const actuator = new Actuator(ctx.shared.kube, routerOf(ctx), { namespace: ctx.key.namespace, target, primary });
  await recordEvent(
    ctx,
    'adopted',
    `adopted Deployment ${ctx.key.namespace}/${name}: ${primaryName(name)} runs ${imagesOf(target.spec?.template)} ` +
      `at ${actuator.stableReplicas} replicas; the target's own pods are the canary from now on`,
  );
  const applied = await actuator.rollback();
  idleStatus(ctx, applied.canaryReplicas);
  ctx.next.effectiveWeight = 0;
  return stop('adopted', ctx.intervalMs);
}

async function createPrimary(ctx: TickContext): Promise<Stop> {
  const target = targetOf(ctx);
  const meta = ctx.raw.metadata ?? {};
  const owner = policyOwner(ctx.key.name, meta.uid ?? '');
  try {
    await syncCopies(ctx.shared.kube, ctx.key.namespace, ctx.config);
    const primary = primaryFrom(target, owner, ctx.config);
    // Autoscaled: primary starts at what serves, or at what the HPA already asks for when that is more (docs/hpa.md).
    primary.spec!.replicas = servingCount(target.spec?.replicas ?? 1, ctx.autoscaler);
    ctx.primary = await ctx.shared.kube.createDeployment(ctx.key.namespace, primary);
  } catch (error) {
    // Created meanwhile (by this policy before a restart, or by another): the next tick reads whose it is.
    if (isConflict(error)) return stop('primary already exists; reading it again', WAIT_MS);
    throw error;
  }
  // A shadow policy switched to active had a virtual rollout in status: adoption starts afresh from the live state.
  const { conditions, audit, report, lastOverride, autoscaler } = ctx.next;
  ctx.next = { conditions, audit, report, lastOverride, autoscaler };
  return stop(`created ${ctx.primary.metadata?.name ?? ''}; waiting for it to be ready`, WAIT_MS);
}
