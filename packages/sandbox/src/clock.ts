import { setMaxListeners } from 'node:events';
/**
 * The sandbox's own time source (structurally the same as the product's Clock, declared here so
 * that the sandbox imports nothing from the product): tests may pass a manual clock.
 */
export interface SandboxClock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms` of this clock's time; rejects (or never resolves) when the signal aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Wall time; its timers do not keep the process alive. */
export const wallClock: SandboxClock = {
  now: () => Date.now(),
  sleep(ms, signal) {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(new Error('aborted'));
        return;
      }
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(new Error('aborted'));
      };
      const timer = setTimeout(
        () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        Math.max(0, ms),
      );
      timer.unref();
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  },
};

/** A random whole number of milliseconds in [min, max]. */
export function randomIn([min, max]: readonly [number, number]): number {
  return Math.round(min + Math.random() * Math.max(0, max - min));
}

/**
 * Timers on a clock, all cancelled by close(): `after` runs work once, `every` repeatedly. A
 * failing piece of work is dropped (the next change of the object starts another pass).
 */
export class Timers {
  private readonly closing = new AbortController();

  constructor(readonly clock: SandboxClock) {
    // Every pending timer listens on `closing` (one per pod starting or terminating: a thousand when a
    // thousand Deployments scale) and removes its listener when it fires: many listeners, no leak.
    setMaxListeners(0, this.closing.signal);
  }

  /** Runs `work` after `ms` unless the timers close or `signal` aborts first. */
  after(ms: number, work: () => void, signal?: AbortSignal): void {
    const both = signal ? AbortSignal.any([this.closing.signal, signal]) : this.closing.signal;
    this.clock.sleep(ms, both).then(
      () => {
        if (both.aborted) return;
        try {
          work();
        } catch {
          // see the class comment
        }
      },
      () => undefined,
    );
  }

  every(ms: number, work: () => void, signal?: AbortSignal): void {
    const tick = (): void => {
      work();
      this.after(ms, tick, signal);
    };
    this.after(ms, tick, signal);
  }

  get closed(): boolean {
    return this.closing.signal.aborted;
  }

  close(): void {
    this.closing.abort();
  }
}

/** How slow the sandbox is, as a real cluster is slow (set `timing: false` for an instant one). */
export interface Timing {
  /**
   * The simulated controllers (deployment, ReplicaSet, garbage collector) react after a random lag in this range (ms).
   */
  controllerLagMs: readonly [number, number];
  /** A deleted pod stays Terminating this long (ms), or its terminationGracePeriodSeconds if shorter. */
  podGraceMs: number;
  /** The server closes a watch without timeoutSeconds after a random lifetime in this range (ms); 0 never. */
  watchLifetimeMs: readonly [number, number];
}

/** `kubestead sandbox`: lags of a busy cluster, short grace periods, watches closed every minute or two. */
export const REALISTIC_TIMING: Timing = {
  controllerLagMs: [50, 500],
  podGraceMs: 3000,
  watchLifetimeMs: [60_000, 120_000],
};

/** Everything at once: no lag, pods removed on deletion, watches open until the client ends them. */
export const INSTANT_TIMING: Timing = { controllerLagMs: [0, 0], podGraceMs: 0, watchLifetimeMs: [0, 0] };
