import type { Clock } from '../../lib/clock/clock.js';
import type { PolicyView } from '../view/policy-view.js';
import type { DemoDisplay } from './display.js';
import type { DemoPolicyApi, DemoPolicyState } from './shop-cluster.js';

const POLL_MS = 200;
const TERMINAL = new Set(['Succeeded', 'RolledBack', 'Failed']);

/** How a release ended: its last status, and the steps (0-based) it was seen progressing at. */
export interface ReleaseOutcome {
  status: NonNullable<DemoPolicyState['status']>;
  stepsSeen: number[];
}

interface Follow {
  api: DemoPolicyApi;
  display: DemoDisplay;
  clock: Clock;
  timeoutMs: number;
}

/** Polls the policy, showing it, until `done` says what was waited for; throws naming it on timeout. */
export async function pollPolicy<T>(
  follow: Follow,
  what: string,
  done: (policy: DemoPolicyState) => T | undefined,
): Promise<T> {
  const deadline = follow.clock.now() + follow.timeoutMs;
  let last = 'no policy read yet';
  for (;;) {
    const policy = await follow.api.read().catch((error: Error) => error);
    if (policy instanceof Error) last = policy.message;
    else {
      follow.display.show(policy, follow.clock.now());
      const result = done(policy);
      if (result !== undefined) return result;
      last = `phase ${policy.status?.phase ?? '(none)'}`;
    }
    if (follow.clock.now() > deadline)
      throw new Error(`${what}: not within ${follow.timeoutMs / 1000} s (last seen: ${last})`);
    await follow.clock.sleep(POLL_MS);
  }
}

const decidedSince = (policy: PolicyView, sinceMs: number): boolean =>
  Date.parse(policy.status?.lastDecision?.time ?? '') >= sinceMs;

/**
 * Follows the release started at `sinceMs` to its end: a terminal phase with a decision made
 * after the release began (the previous release's Succeeded does not count).
 */
export async function followRelease(follow: Follow, sinceMs: number): Promise<ReleaseOutcome> {
  const steps = new Set<number>();
  const status = await pollPolicy(follow, 'the release to end', (policy) => {
    const s = policy.status;
    if (s?.phase === 'Progressing' && s.currentStep !== undefined) steps.add(s.currentStep);
    return s?.phase && TERMINAL.has(s.phase) && decidedSince(policy, sinceMs) ? s : undefined;
  });
  return { status, stepsSeen: [...steps].sort((a, b) => a - b) };
}
