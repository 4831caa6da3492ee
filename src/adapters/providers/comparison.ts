import { hodgesLehmann, median } from '../../lib/stats/location.js';
import { mannWhitneyU, type Alternative } from '../../lib/stats/mann-whitney.js';
import type { Comparison, CompareDirection, ComparisonFacts } from '../../pipeline/policy/compare.js';
import { ambiguous, EMPTY } from './answer.js';
import type { RangeAnswer } from './backend.js';
import { formatDuration } from '../../pipeline/policy/duration.js';
import { MetricError, type Measurement } from './types.js';

/** The test's alternative for a direction: a canary stochastically greater, smaller, or either. */
const ALTERNATIVES: Record<CompareDirection, Alternative> = {
  increase: 'greater',
  decrease: 'less',
  either: 'two-sided',
};

/** The finite values one side's single series has in the window ending at `timeMs` (its ends included). */
export function windowSamples(side: string, answer: RangeAnswer, windowMs: number, timeMs: number): number[] {
  const [series, ...more] = answer.series;
  if (!series) throw new MetricError(`${side}: ${EMPTY}`);
  if (more.length)
    throw new MetricError(
      `${side}: ${
        ambiguous(
          answer.series.length,
          'series',
          answer.series.map((s) => s.name),
        ).message
      }`,
    );
  return series.points.flatMap((p) => (p.t >= timeMs - windowMs && p.t <= timeMs && p.value !== null ? [p.value] : []));
}

/** Fewer than minSamples on a side is no verdict: unavailable, never a pass. */
function enough(side: string, samples: number[], comparison: Comparison): void {
  if (samples.length < comparison.minSamples)
    throw new MetricError(
      `${side}: ${samples.length} sample${samples.length === 1 ? '' : 's'} in the ` +
        `${formatDuration(comparison.windowSeconds)} window, fewer than minSamples ${comparison.minSamples}`,
    );
}

/** The statistics of canary against primary (docs/checks.md, "Canary against primary"). */
export function compareSamples(canary: number[], primary: number[], direction: CompareDirection): ComparisonFacts {
  const test = mannWhitneyU(canary, primary, { alternative: ALTERNATIVES[direction] });
  const shift = hodgesLehmann(canary, primary);
  const primaryMedian = median(primary);
  return {
    u: test.u,
    pValue: test.pValue,
    effectSize: primaryMedian === 0 ? (shift === 0 ? 0 : null) : shift / Math.abs(primaryMedian),
    shift,
    canaryMedian: median(canary),
    primaryMedian,
    direction,
    method: test.method,
    sampleSizes: { canary: canary.length, primary: primary.length },
  };
}

/**
 * A comparison's measurement at a tick, from each side's range answer: the samples of the window
 * ending at the tick, judged with the Mann-Whitney U test. Throws MetricErrors (unavailable).
 */
export function comparisonAt(
  comparison: Comparison,
  sides: { canary: RangeAnswer; primary: RangeAnswer },
  timeMs: number,
): Pick<Measurement, 'value' | 'comparison' | 'shape'> {
  const windowMs = comparison.windowSeconds * 1000;
  const canary = windowSamples('canary', sides.canary, windowMs, timeMs);
  const primary = windowSamples('primary', sides.primary, windowMs, timeMs);
  enough('canary', canary, comparison);
  enough('primary', primary, comparison);
  const facts = compareSamples(canary, primary, comparison.direction);
  return {
    value: facts.shift,
    comparison: { ...facts, samples: { canary, primary } },
    shape: `${canary.length} canary and ${primary.length} primary samples`,
  };
}
