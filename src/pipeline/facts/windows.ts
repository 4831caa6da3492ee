import { Cron } from 'croner';
import { parseDuration } from '../policy/duration.js';
import type { WindowSpec, WindowsSpec } from '../policy/windows.js';

/** The snapshot's `window`: whether the policy's windows forbid moving forward now, why, and when that ends. */
export interface WindowFacts {
  frozen: boolean;
  /** Which window holds the rollout (null when not frozen). */
  reason: string | null;
  /** When the rollout may move again (null when not frozen, or when no window ever opens within the search). */
  opensAt: string | null;
}

export const OPEN_WINDOW: WindowFacts = Object.freeze({ frozen: false, reason: null, opensAt: null });

/** Jumps tried while looking for the time the windows open again (each jump is a window's end or start). */
const MAX_JUMPS = 64;

interface Active {
  start: number;
  end: number;
}

const cronOf = (window: WindowSpec): Cron => new Cron(window.schedule, { timezone: window.timeZone });
const durationMs = (window: WindowSpec): number => (parseDuration(window.duration) ?? 0) * 1000;

/** The occurrences of one window that cover `time` (a start in (time − duration, time]), the latest-ending one. */
function activeAt(window: WindowSpec, time: number): Active | undefined {
  const length = durationMs(window);
  const cron = cronOf(window);
  let best: Active | undefined;
  let from = new Date(time - length);
  for (let i = 0; i < MAX_JUMPS; i++) {
    const start = cron.nextRun(from)?.getTime();
    if (start === undefined || start > time) break;
    if (!best || start + length > best.end) best = { start, end: start + length };
    from = new Date(start);
  }
  return best;
}

const describe = (kind: 'deny' | 'allow', window: WindowSpec): string =>
  `${kind} window "${window.schedule}" (${window.timeZone}, ${window.duration})`;

/** What holds the rollout at `time`, and the next instant worth looking at again; undefined when nothing does. */
function blockedAt(windows: WindowsSpec, time: number): { reason: string; until: number | undefined } | undefined {
  let deny: { window: WindowSpec; end: number } | undefined;
  for (const { deny: window } of windows) {
    const active = window && activeAt(window, time);
    if (window && active && (!deny || active.end > deny.end)) deny = { window, end: active.end };
  }
  if (deny) return { reason: `inside the ${describe('deny', deny.window)}`, until: deny.end };
  const allows = windows.flatMap((w) => (w.allow ? [w.allow] : []));
  if (allows.length === 0 || allows.some((window) => activeAt(window, time))) return undefined;
  const starts = allows.flatMap((window) => cronOf(window).nextRun(new Date(time))?.getTime() ?? []);
  const reason =
    allows.length === 1 ? `outside the ${describe('allow', allows[0] as WindowSpec)}` : 'outside every allow window';
  return { reason, until: starts.length ? Math.min(...starts) : undefined };
}

/**
 * The window facts at `time` (ms): frozen inside a deny window, or outside every allow window when
 * the policy has any. Pure: the time is the snapshot's (the tick's injected clock).
 */
export function windowFacts(windows: WindowsSpec, time: number): WindowFacts {
  const blocked = blockedAt(windows, time);
  if (!blocked) return OPEN_WINDOW;
  let until = blocked.until;
  for (let i = 0; i < MAX_JUMPS && until !== undefined; i++) {
    const next = blockedAt(windows, until);
    if (!next) return { frozen: true, reason: blocked.reason, opensAt: new Date(until).toISOString() };
    until = next.until;
  }
  return { frozen: true, reason: blocked.reason, opensAt: null };
}
