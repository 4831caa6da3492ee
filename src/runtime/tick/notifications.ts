import { emitEvent } from './audit.js';
import { condition } from './conditions.js';
import type { TickContext } from './context.js';
import { conditionOf } from './status.js';
import type { NotificationHealth } from '../../pipeline/record/recorder.js';

/**
 * The recorder's view, for a policy whose messages go somewhere: its own notifications, or the operator-wide
 * defaults (`kubestead run --notify-*`) once they have had something to send; or whose status still shows it.
 */
function healthOf(ctx: TickContext, shown: boolean): NotificationHealth | undefined {
  const recorder = ctx.shared.deps.recorder;
  const uid = ctx.raw.metadata?.uid;
  if (!ctx.policy || !uid || !recorder.notificationHealth) return undefined;
  const health = recorder.notificationHealth({ uid });
  if (!ctx.policy.spec.notifications?.length && health.destinations === 0 && !shown) return undefined;
  return health;
}

/**
 * After every tick of a valid policy with notifications (its own or the defaults): NotificationsDegraded (True while a destination keeps
 * failing: its name and the last error, never its URL), and an Event when that changes. Nothing waits on it:
 * delivery runs behind the audit chain, and a failing chat never holds a rollout back.
 */
export async function showNotificationHealth(ctx: TickContext): Promise<void> {
  const before = conditionOf(ctx.status, 'NotificationsDegraded');
  const health = healthOf(ctx, before !== undefined);
  if (!health) return;
  if (health.degraded !== (before?.status === 'True')) {
    if (health.degraded) await emitEvent(ctx, 'notifications-failing', `notifications failing: ${health.message}`);
    else if (before) await emitEvent(ctx, 'notifications-delivered', 'notifications delivered again');
  }
  condition(ctx, 'NotificationsDegraded', health.degraded, { reason: health.reason, message: health.message });
}
