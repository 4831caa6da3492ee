/**
 * The status writes of a rollout under conflict (docs/reliability.md, row 5): once a status write of a policy
 * met a 409, its status writes in any minute that follows are at most `limit`; a tick due when the budget is spent
 * waits (it neither decides nor acts) until the oldest write leaves the window. A policy that met no conflict in
 * the last minute is not limited: a rollout's own pace is its interval's.
 */
export class ConflictBudget {
  private readonly writes = new Map<string, { lastConflict: number; times: number[] }>();

  constructor(
    private readonly limit = 10,
    private readonly windowMs = 60_000,
  ) {}

  /** How long the policy must wait before its next tick (0: it may tick now). */
  waitMs(key: string, now: number): number {
    const seen = this.writes.get(key);
    if (!seen) return 0;
    if (now - seen.lastConflict >= this.windowMs) {
      this.writes.delete(key);
      return 0;
    }
    seen.times = seen.times.filter((t) => now - t < this.windowMs);
    return seen.times.length < this.limit ? 0 : seen.times[0]! + this.windowMs - now;
  }

  /** Notes one status write of the policy, and whether it met a conflict. */
  note(key: string, now: number, conflicted: boolean): void {
    const seen = this.writes.get(key);
    if (seen) {
      seen.times.push(now);
      if (conflicted) seen.lastConflict = now;
    } else if (conflicted) this.writes.set(key, { lastConflict: now, times: [now] });
  }
}
