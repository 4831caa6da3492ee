import { imagesOf, rolledOut } from '../../pipeline/actuate/deployments.js';
import {
  actuatorOf,
  isShadow,
  noteApplied,
  policyOf,
  primaryOf,
  stop,
  type Stop,
  type TickContext,
  WAIT_MS,
} from './context.js';
import { recordEvent } from './record.js';
import { promoted } from '../../pipeline/actuate/transitions.js';
import { verifyWeight } from './verify.js';
import { rememberPromoted } from '../../pipeline/facts/revert.js';
import { revertDepth } from '../../pipeline/policy/fast-revert.js';

/** spec.fastRevert: status keeps the stable revision and the ones promoted before it (a restart knows them). */
export function rememberStable(ctx: TickContext): void {
  const stable = ctx.next.stableRevision;
  const kept = stable
    ? rememberPromoted(revertDepth(policyOf(ctx).spec), ctx.status.promotedRevisions ?? [], stable)
    : undefined;
  if (kept) ctx.next.promotedRevisions = kept;
}

/** Promotion, second half: once primary has rolled out the canary's template, the canary goes to 0. */
export async function continuePromotion(ctx: TickContext): Promise<Stop | undefined> {
  if (ctx.status.phase !== 'Promoting') return undefined;
  if (isShadow(ctx)) {
    Object.assign(ctx.next, promoted(ctx.status.canaryRevision));
    return stop('shadow promotion complete', ctx.intervalMs);
  }
  const primary = primaryOf(ctx);
  if (!rolledOut(primary))
    return stop(`waiting for ${primary.metadata?.name ?? ''} to roll out the canary's template`, WAIT_MS);
  await recordEvent(
    ctx,
    'succeeded',
    `promotion complete: ${primary.metadata?.name ?? ''} runs ${imagesOf(primary.spec?.template)} at ` +
      `${primary.spec?.replicas ?? 0} replicas`,
  );
  noteApplied(ctx, await actuatorOf(ctx).finishPromotion());
  Object.assign(ctx.next, promoted(ctx.status.canaryRevision));
  rememberStable(ctx);
  await verifyWeight(ctx);
  return stop('promoted', ctx.intervalMs);
}
