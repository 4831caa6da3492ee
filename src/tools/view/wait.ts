import type { Clock } from '../../lib/clock/clock.js';
import type { PolicyObjectView } from './document.js';

/** How a followed rollout ended, for `kubestead status --wait`. */
export type Outcome = 'promoted' | 'rolledBack' | 'timeout';

const IN_PROGRESS = new Set(['Progressing', 'Paused', 'Promoting']);
const ENDS: Record<string, Outcome> = { Succeeded: 'promoted', RolledBack: 'rolledBack', Failed: 'rolledBack' };

export interface FollowOptions {
  read(): Promise<PolicyObjectView>;
  clock: Clock;
  intervalMs: number;
  /** Give up after this long (null: never). */
  timeoutMs: number | null;
  signal?: AbortSignal;
  /** Each reading, for a live view. */
  seen?(policy: PolicyObjectView): Promise<void> | void;
}

/**
 * Follows the rollout in progress, or, when none is, the next one to start (a new canary revision, or
 * the phase leaving its end), to its end: promoted, or rolled back (an abort too). A read that fails
 * is tried again on the next interval; the caller's `read` throws for what cannot get better.
 */
export async function followRollout(options: FollowOptions): Promise<Outcome> {
  const { clock } = options;
  const deadline = options.timeoutMs === null ? Infinity : clock.now() + options.timeoutMs;
  let policy = await options.read();
  const startRevision = policy.status?.canaryRevision;
  let following = false;
  for (;;) {
    await options.seen?.(policy);
    following ||= startsFollowing(policy, startRevision);
    const end = ENDS[policy.status?.phase ?? ''];
    if (following && end) return end;
    if (!(await pause(options, deadline))) return 'timeout';
    policy = await options.read();
  }
}

/** In progress, or another canary revision than at the start: this is the rollout to follow. */
function startsFollowing(policy: PolicyObjectView, startRevision: string | undefined): boolean {
  return IN_PROGRESS.has(policy.status?.phase ?? '') || policy.status?.canaryRevision !== startRevision;
}

/** Waits one interval (less when the deadline is nearer); false when the deadline has passed or the wait was stopped. */
async function pause(options: FollowOptions, deadline: number): Promise<boolean> {
  const left = deadline - options.clock.now();
  if (left <= 0) return false;
  try {
    await options.clock.sleep(Math.min(options.intervalMs, left), options.signal);
    return true;
  } catch {
    return false;
  }
}
