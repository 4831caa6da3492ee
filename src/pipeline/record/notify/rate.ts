/** The documented limits per destination (docs/notifications.md): one message a second, 20 a minute. */
export const RATE_DEFAULTS = { minIntervalMs: 1000, perMinute: 20 } as const;

const MINUTE_MS = 60_000;

/**
 * How long a destination's next message waits so that a burst never floods a channel: at least `minIntervalMs`
 * after the previous one, and no more than `perMinute` in any 60 s. Messages wait (in order), none is dropped.
 */
export class RateLimit {
  private readonly sentAt: number[] = [];

  constructor(
    private readonly minIntervalMs: number = RATE_DEFAULTS.minIntervalMs,
    private readonly perMinute: number = RATE_DEFAULTS.perMinute,
  ) {}

  /** Milliseconds to wait at `now` before the next message (0: send). */
  waitMs(now: number): number {
    const last = this.sentAt.at(-1);
    const gap = last === undefined ? 0 : last + this.minIntervalMs - now;
    const window = this.sentAt.length >= this.perMinute ? this.sentAt.at(-this.perMinute)! + MINUTE_MS - now : 0;
    return Math.max(0, gap, window);
  }

  /** A message went out at `now`. */
  sent(now: number): void {
    this.sentAt.push(now);
    if (this.sentAt.length > this.perMinute) this.sentAt.splice(0, this.sentAt.length - this.perMinute);
  }
}
