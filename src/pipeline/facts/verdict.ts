import type { CheckSpec } from '../policy/schema.js';
import type { Verdict } from '../policy/vocabulary.js';

/** What a verdict reads of a check: its bounds and its inconclusive band. */
export type Judged = Pick<CheckSpec, 'min' | 'max' | 'inconclusive'>;

/**
 * The verdict of one measurement (docs/checks.md, "Failure limits and the inconclusive band"): `unavailable` without
 * a finite value; `fail` outside the bounds (a value equal to a bound is in bounds); `inconclusive` inside them but
 * past an edge of the band; `pass` otherwise. The rules decide from the same comparisons (rules/check-breach.json,
 * check-failing.json, inconclusive.json); decide refuses a snapshot whose verdict says otherwise.
 */
export function verdictOf(check: Judged, m: { status: string; value: number | null }): Verdict {
  if (m.status !== 'ok' || m.value === null) return 'unavailable';
  if (outside(m.value, check.min, check.max)) return 'fail';
  return outside(m.value, check.inconclusive?.min, check.inconclusive?.max) ? 'inconclusive' : 'pass';
}

/** Past one of two edges (a value equal to an edge is inside). */
const outside = (value: number, min: number | undefined, max: number | undefined): boolean =>
  (max !== undefined && value > max) || (min !== undefined && value < min);

/** A check's run of failing measurements as status keeps it: how many, and the tick time of the last one. */
export interface FailureRun {
  count: number;
  at?: string;
}

/**
 * The run after one more measurement: a failing one adds 1 — unless the last failure counted was read in the same
 * evaluation window (`window` gives a time's window; a second tick in one window re-reads the same cached answer, so
 * it is the same measurement); one in bounds or inconclusive ends the run; an unavailable one leaves it as it was.
 */
export function nextRun(
  previous: FailureRun | undefined,
  verdict: Verdict,
  tick: { time: string; window: (iso: string) => string },
): FailureRun {
  const count = previous?.count ?? 0;
  if (verdict === 'unavailable') return previous ?? { count: 0 };
  if (verdict !== 'fail') return { count: 0 };
  const same = previous?.at !== undefined && tick.window(previous.at) === tick.window(tick.time);
  return { count: same ? Math.max(count, 1) : count + 1, at: tick.time };
}
