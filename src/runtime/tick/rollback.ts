import { rolledOut } from '../../pipeline/actuate/deployments.js';
import {
  actuatorOf,
  isShadow,
  noteApplied,
  primaryOf,
  stop,
  targetOf,
  type Stop,
  type TickContext,
  WAIT_MS,
} from './context.js';
import { verifyWeight } from './verify.js';

/**
 * A rollback of an autoscaled target waiting for primary (docs/hpa.md): rolled back, with the user's HPA, and the
 * canary still given pods (status says so: after any other rollback its count is 0, and a later count on the target
 * is a person's scale, the scale stage's).
 */
export const rollbackWaits = (ctx: TickContext): boolean =>
  ctx.status.phase === 'RolledBack' &&
  ctx.autoscaler !== undefined &&
  (ctx.status.canaryReplicas ?? 0) > 0 &&
  (ctx.target?.spec?.replicas ?? 0) > 0;

/**
 * Rollback of an autoscaled target, second half: once primary has rolled out at the serving count it was given (the
 * actuation's first half), the canary's traffic and pods go; until then both stay, so that the pods ready to serve
 * never fall below what served before the rollback.
 */
export async function continueRollback(ctx: TickContext): Promise<Stop | undefined> {
  if (isShadow(ctx) || !ctx.primary || !rollbackWaits(ctx)) return undefined;
  const primary = primaryOf(ctx);
  if (!rolledOut(primary))
    return stop(
      `rollback: waiting for ${primary.metadata?.name ?? ''} to have ${primary.spec?.replicas ?? 1} ready replicas ` +
        `before the canary's ${targetOf(ctx).spec?.replicas ?? 0} go`,
      WAIT_MS,
    );
  noteApplied(ctx, await actuatorOf(ctx).rollback());
  await verifyWeight(ctx);
  return stop('rolled back: the canary went once primary served its count', ctx.intervalMs);
}
