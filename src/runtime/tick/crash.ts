/** The boundaries a test can crash the process at (restart-safety tests). */
export const CRASH_POINTS = ['after-record', 'after-actuate', 'after-status'] as const;
export type CrashPoint = (typeof CRASH_POINTS)[number];

/** Thrown by an in-process crash hook: the tick stops dead at the boundary, as a killed process would. */
export class SimulatedCrash extends Error {
  constructor(readonly point: CrashPoint) {
    super(`simulated crash ${point}`);
    this.name = 'SimulatedCrash';
  }
}

export type CrashHook = (point: CrashPoint) => void;

export const noCrash: CrashHook = () => undefined;

/**
 * The test-only crash hook of the process, parsed once at start from KUBESTEAD_TEST_CRASH_AT
 * (inert unless set): at that boundary the process exits at once with code 137, as after a SIGKILL,
 * without finishing the tick, flushing logs or releasing the Lease.
 */
export function crashHookFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): CrashHook {
  const wanted = env.KUBESTEAD_TEST_CRASH_AT;
  if (wanted === undefined || wanted === '') return noCrash;
  if (!(CRASH_POINTS as readonly string[]).includes(wanted)) {
    throw new Error(`KUBESTEAD_TEST_CRASH_AT: expected one of ${CRASH_POINTS.join(', ')}, got ${JSON.stringify(wanted)}`);
  }
  return (point) => {
    if (point === wanted) process.exit(137);
  };
}

/** An in-process hook for tests: throws a SimulatedCrash the `nth` time (1-based) the tick reaches `at`, once. */
export function throwingCrashHook(at: CrashPoint, nth = 1): CrashHook {
  let seen = 0;
  return (point) => {
    if (point === at && ++seen === nth) throw new SimulatedCrash(point);
  };
}
