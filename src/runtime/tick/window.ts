import { OPEN_WINDOW, windowFacts, type WindowFacts } from '../../pipeline/facts/windows.js';
import { alreadyShown, condition } from './conditions.js';
import { conditionOf } from './status.js';
import { policyOf, stop, type Stop, type TickContext } from './context.js';
import { recordEvent } from './record.js';

/** The Frozen condition's message for a window state: why, and when it opens again. */
export function frozenMessage(window: WindowFacts): string {
  return `frozen ${window.reason ?? ''}; opens at ${window.opensAt ?? 'no time found within the search'}`;
}

/** The policy's window state at the tick's time (the same fact the snapshot carries), or open without windows. */
export function windowNow(ctx: TickContext): WindowFacts {
  const windows = policyOf(ctx).spec.windows;
  return windows?.length ? windowFacts(windows, ctx.now) : OPEN_WINDOW;
}

/**
 * The `Frozen` condition (docs/operating.md, "Freeze and release windows"): True with the reason and
 * the time it opens while a window holds the rollout, False otherwise; absent for a policy without windows.
 */
export function showWindow(ctx: TickContext): Promise<Stop | undefined> {
  const windows = policyOf(ctx).spec.windows;
  if (!windows?.length) {
    if (conditionOf(ctx.next, 'Frozen')) ctx.next.conditions = ctx.next.conditions?.filter((c) => c.type !== 'Frozen');
    return Promise.resolve(undefined);
  }
  const window = windowNow(ctx);
  condition(
    ctx,
    'Frozen',
    window.frozen,
    window.frozen
      ? { reason: 'Window', message: frozenMessage(window) }
      : { reason: 'Open', message: 'no window holds the rollout' },
  );
  return Promise.resolve(undefined);
}

/**
 * A new template during a freeze starts no canary: the start waits, with an Event (once per template
 * and window), until the window opens; the tick comes back then, or at its interval if sooner.
 */
export async function holdStart(ctx: TickContext, revision: string): Promise<Stop | undefined> {
  const window = windowNow(ctx);
  if (!window.frozen) return undefined;
  const message = `new template (revision ${revision}) waits: ${frozenMessage(window)}`;
  if (!alreadyShown(ctx, 'Frozen', 'StartHeld', message)) await recordEvent(ctx, 'start-held', message);
  condition(ctx, 'Frozen', true, { reason: 'StartHeld', message });
  const untilOpen = window.opensAt ? Date.parse(window.opensAt) - ctx.now : ctx.intervalMs;
  return stop('canary start held by a window', Math.max(1, Math.min(ctx.intervalMs, untilOpen)));
}
