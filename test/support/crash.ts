import { CRASH_POINTS, type CrashHook, type CrashPoint } from '../../src/runtime/tick/crash.js';

/** Thrown by an in-process crash hook: the tick stops dead at the boundary, as a killed process would. */
export class SimulatedCrash extends Error {
  constructor(readonly point: CrashPoint) {
    super(`simulated crash ${point}`);
    this.name = 'SimulatedCrash';
  }
}

/** An in-process hook: throws a SimulatedCrash the `nth` time (1-based) the tick reaches `at`, once. */
export function throwingCrashHook(at: CrashPoint, nth = 1): CrashHook {
  let seen = 0;
  return (point) => {
    if (point === at && ++seen === nth) throw new SimulatedCrash(point);
  };
}

export const isCrashPoint = (value: string): value is CrashPoint => (CRASH_POINTS as readonly string[]).includes(value);
