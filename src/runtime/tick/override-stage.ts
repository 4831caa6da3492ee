import type { Stop, TickContext } from './context.js';
import { recordEvent } from './record.js';
import { alreadyConsumed, OVERRIDABLE_PHASES, readOverride } from './overrides.js';
/**
 * Reads the override annotation. One for a rollout in progress becomes the snapshot's override; one
 * already consumed (a restart between status and its removal), an invalid one, or one for a policy
 * that is not progressing is only removed, the last two with a Warning Event saying why.
 */
export async function readOverrides(ctx: TickContext): Promise<Stop | undefined> {
  const read = readOverride(ctx.raw);
  if (read.kind === 'none') return undefined;
  ctx.removeOverride = true;
  if (read.kind === 'invalid') {
    await recordEvent(ctx, 'override-refused', `override refused: ${read.message}`);
    return undefined;
  }
  const { override } = read;
  if (alreadyConsumed(ctx.status, override)) return undefined;
  if (!OVERRIDABLE_PHASES.includes(ctx.next.phase ?? '')) {
    await recordEvent(
      ctx,
      'override-refused',
      `override ${override.action} by ${override.actor} refused: the policy is ${ctx.next.phase ?? 'not adopted'}, ` +
        `not progressing`,
    );
    return undefined;
  }
  ctx.override = override;
  ctx.next.lastOverride = override;
  return undefined;
}
