/**
 * The one source of time for the operator (controller, metrics HTTP client, actuator) and for the
 * tests that drive it. Nothing outside this folder reads `Date.now()` or sleeps on a timer directly.
 */
export interface Clock {
  /** The current time in milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms` of this clock's time; rejects with the signal's reason when aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Wall-clock time. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep(ms, signal) {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason as Error);
        return;
      }
      const timer = setTimeout(
        () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        Math.max(0, ms),
      );
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(signal?.reason as Error);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  },
};

/** An ISO-8601 timestamp of a clock's now, as written in status and snapshots. */
export const isoNow = (clock: Clock): string => new Date(clock.now()).toISOString();
