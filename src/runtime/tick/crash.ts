/**
 * The tick's actuation boundaries: after the decision is recorded, after it is applied, after status
 * is written. A hook given in TickOptions is called at each (none by default); the restart-safety
 * tests pass one that stops the tick dead there, as a killed process would.
 */
export const CRASH_POINTS = ['after-record', 'after-actuate', 'after-status'] as const;
export type CrashPoint = (typeof CRASH_POINTS)[number];

export type CrashHook = (point: CrashPoint) => void;

export const noCrash: CrashHook = () => undefined;
