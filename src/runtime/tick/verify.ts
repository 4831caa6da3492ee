import { replicaShare } from '../../adapters/routers/replicas.js';
import type { RouterWeight, TrafficRouter } from '../../adapters/routers/router.js';
import { alreadyShown, condition } from './conditions.js';
import { primaryOf, routerOf, targetOf, type TickContext } from './context.js';
import { recordEvent } from './record.js';

/**
 * The weight of a tick that wrote none, as this tick already read it: a weighted router's as the drift
 * phase read it (an edit since then is the next tick's drift, not a weight to keep), the replica
 * split as the Deployments this tick read show it (the cache, or the API when the cache had not seen
 * our own last write), so they need not be read again, twice, from the API.
 */
export function unchangedWeight(ctx: TickContext): RouterWeight | undefined {
  if (routerOf(ctx).weighted) return ctx.routerWeight;
  if (!ctx.primary) return undefined;
  const canary = targetOf(ctx).spec?.replicas ?? 0;
  const stable = primaryOf(ctx).spec?.replicas ?? 0;
  return { weight: replicaShare(canary, stable), detail: `replicas: ${canary} canary, ${stable} primary` };
}

/**
 * What the router wrote to the user's own objects (blue-green's switch of the user's Service selector): each write an
 * Event and a record through every recorder, the audit chain included (docs/operating.md).
 */
export async function recordUserWrites(ctx: TickContext, router: TrafficRouter): Promise<void> {
  for (const write of router.userWrites?.() ?? []) await recordEvent(ctx, 'service-switched', `wrote ${write}`);
}

/**
 * Verify: the live weight (never the one intended) goes to status: `known` when this tick already
 * has it (the answer to its own write, or what it read when it wrote no weight: unchangedWeight),
 * otherwise read back from the live objects.
 */
export async function verifyWeight(ctx: TickContext, known?: RouterWeight): Promise<void> {
  await recordUserWrites(ctx, routerOf(ctx));
  const live = known ?? (await routerOf(ctx).getWeight());
  ctx.next.effectiveWeight = Math.round(live.weight * 10_000) / 10_000;
  const asked = ctx.next.canaryWeight ?? 0;
  // A weighted router gives the step's share exactly or keeps the last one while the canary's pods get ready
  // (drift.ts).
  const far = asked > 0 && !routerOf(ctx).weighted && Math.abs(live.weight - asked) > Math.max(1, asked * 0.25);
  if (far) {
    const message =
      `weight ${asked}% asked, ${routerOf(ctx).kind} routing gives ${ctx.next.effectiveWeight}% ` + `(${live.detail})`;
    if (!alreadyShown(ctx, 'Degraded', 'WeightDrift', message)) await recordEvent(ctx, 'weight-drift', message);
    condition(ctx, 'Degraded', true, { reason: 'WeightDrift', message });
  }
}
