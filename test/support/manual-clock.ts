import type { Clock } from '../../src/lib/clock/clock.js';

interface Sleeper {
  at: number;
  resolve: () => void;
  reject: (reason: unknown) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

/**
 * A clock that moves only when told: tests run a 5-minute soak by `advance(300_000)`, without waiting.
 * Sleepers whose time has come are woken in time order.
 */
export class ManualClock implements Clock {
  private current: number;
  private sleepers: Sleeper[] = [];

  constructor(start: number | string | Date = '2026-11-26T10:00:00Z') {
    this.current = typeof start === 'number' ? start : new Date(start).getTime();
  }

  now(): number {
    return this.current;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason as Error);
        return;
      }
      const sleeper: Sleeper = { at: this.current + Math.max(0, ms), resolve, reject, signal };
      if (signal) {
        sleeper.onAbort = () => {
          this.sleepers = this.sleepers.filter((s) => s !== sleeper);
          reject(signal.reason as Error);
        };
        signal.addEventListener('abort', sleeper.onAbort, { once: true });
      }
      this.sleepers.push(sleeper);
      if (ms <= 0) this.wake();
    });
  }

  /** How many sleepers wait: lets a test wait until the code under test has gone to sleep. */
  get waiting(): number {
    return this.sleepers.length;
  }

  /** When the earliest sleeper is due (undefined: none sleeps): tells one wait from another. */
  get nextWake(): number | undefined {
    return this.sleepers.length === 0 ? undefined : Math.min(...this.sleepers.map((s) => s.at));
  }

  /** Moves time forward and wakes every sleeper that is due; yields so that woken code runs. */
  async advance(ms: number): Promise<void> {
    this.current += ms;
    this.wake();
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  private wake(): void {
    const due = this.sleepers.filter((s) => s.at <= this.current).sort((a, b) => a.at - b.at);
    this.sleepers = this.sleepers.filter((s) => s.at > this.current);
    for (const s of due) {
      if (s.onAbort) s.signal?.removeEventListener('abort', s.onAbort);
      s.resolve();
    }
  }
}
