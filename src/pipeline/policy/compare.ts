import { z } from 'zod';
import { boundedDuration, DURATION_BOUNDS, formatDuration, parseDuration } from './duration.js';
import type { PolicyIssue } from './issues.js';
import { isObj, type Obj } from './objects.js';
import { strict } from './strict.js';
import { doc } from './schema-parts.js';

/**
 * Comparison checks (docs/checks.md, "Canary against primary"): a check with `compare` instead of
 * `query` samples a canary and a primary query over the same window and judges them with the
 * Mann-Whitney U test. The schema fields, their defaults, the cross-field rules and the facts a
 * measurement gives are here, in one place.
 */
export const COMPARE_DIRECTIONS = ['increase', 'decrease', 'either'] as const;
export type CompareDirection = (typeof COMPARE_DIRECTIONS)[number];

/** Defaults of the fields beside `compare` (zod gives none: a threshold check must not grow them). */
export const COMPARE_DEFAULTS = { direction: 'either', confidence: 0.98, tolerance: 0.25, minSamples: 20 } as const;

/** Most samples a side: n·m differences are kept for the Hodges–Lehmann shift, a million at most. */
export const MAX_SAMPLES = 1000;

export const compareSchema = strict({
  canary: z
    .string()
    .min(1)
    .meta(
      doc(
        "The canary's query (one series), templated like `query`.",
        'canary: histogram_quantile(0.9, sum by (le) (rate(latency_bucket{track="canary"}[1m])))',
      ),
    ),
  primary: z
    .string()
    .min(1)
    .meta(
      doc(
        "Primary's query over the same window.",
        'primary: histogram_quantile(0.9, sum by (le) (rate(latency_bucket{track="primary"}[1m])))',
      ),
    ),
  window: boundedDuration(DURATION_BOUNDS.window)
    .default('10m')
    .meta(doc('The span sampled, ending at the tick.', 'window: 10m')),
  step: boundedDuration(DURATION_BOUNDS.step)
    .default('15s')
    .meta(
      doc(
        'One sample per step on each side (window ÷ step + 1 samples, at most 1,000, at least `minSamples`).',
        'step: 15s',
      ),
    ),
});

const CONFIDENCE_RANGE = 'a confidence is above 0 and below 1, like 0.98';

/** The check fields of a comparison (spread into the check schema). */
export const comparisonFields = {
  compare: compareSchema
    .meta(
      doc(
        'Instead of `query` and bounds: sample a canary and a primary query over the same window every tick and ' +
          'judge them with the Mann-Whitney U test (docs/checks.md, "Canary against primary").',
        'compare: {canary: "…", primary: "…", window: 10m, step: 15s}',
      ),
    )
    .optional(),
  direction: z
    .enum(COMPARE_DIRECTIONS)
    .meta(
      doc(
        'Which change fails: `increase` (the canary higher), `decrease` (lower) or `either` (default); it sets the ' +
          "test's alternative (greater, less, two-sided).",
        'direction: increase',
      ),
    )
    .optional(),
  confidence: z
    .number()
    .gt(0, { error: CONFIDENCE_RANGE })
    .lt(1, { error: CONFIDENCE_RANGE })
    .meta(
      doc(
        'A comparison fails when its p-value is below 1 − confidence (default 0.98) and the shift is larger.',
        'confidence: 0.98',
      ),
    )
    .optional(),
  tolerance: z
    .number()
    .min(0)
    .meta(
      doc(
        "The Hodges–Lehmann shift must also exceed this share of primary's median (default 0.25) for the check to " +
          'fail.',
        'tolerance: 0.25',
      ),
    )
    .optional(),
  minSamples: z
    .number()
    .int()
    .min(2)
    .max(MAX_SAMPLES)
    .meta(doc('Samples each side needs (default 20); fewer is `unavailable`, never a pass.', 'minSamples: 20'))
    .optional(),
};

/** What a comparison check asks for, defaults filled in. */
export interface Comparison {
  canary: string;
  primary: string;
  windowSeconds: number;
  stepSeconds: number;
  direction: CompareDirection;
  confidence: number;
  tolerance: number;
  minSamples: number;
}

type ComparisonCheck = {
  compare?: z.output<typeof compareSchema> | undefined;
  direction?: CompareDirection | undefined;
  confidence?: number | undefined;
  tolerance?: number | undefined;
  minSamples?: number | undefined;
};

/** A validated check's comparison, or null for a threshold check. */
export function comparisonOf(check: ComparisonCheck): Comparison | null {
  if (!check.compare) return null;
  return {
    canary: check.compare.canary,
    primary: check.compare.primary,
    windowSeconds: parseDuration(check.compare.window) ?? 600,
    stepSeconds: parseDuration(check.compare.step) ?? 15,
    direction: check.direction ?? COMPARE_DEFAULTS.direction,
    confidence: check.confidence ?? COMPARE_DEFAULTS.confidence,
    tolerance: check.tolerance ?? COMPARE_DEFAULTS.tolerance,
    minSamples: check.minSamples ?? COMPARE_DEFAULTS.minSamples,
  };
}

/** The query text of a check as the snapshot and messages show it: its query, or both sides of its comparison. */
export function checkQueryText(check: { query?: string | undefined; compare?: { canary: string; primary: string } }) {
  return check.query ?? (check.compare ? comparedQueries(check.compare.canary, check.compare.primary) : '');
}

export const comparedQueries = (canary: string, primary: string): string => `canary: ${canary}; primary: ${primary}`;

/**
 * What a comparison measured: the check facts of the snapshot under `comparison` (docs/checks.md).
 * `shift` is the Hodges–Lehmann estimate of canary minus primary; `effectSize` is that shift as a
 * share of primary's median (null when that median is 0: any shift is then infinitely large).
 */
export const comparisonFactsSchema = z.strictObject({
  u: z.number().min(0),
  pValue: z.number().min(0).max(1),
  effectSize: z.number().refine(Number.isFinite, { error: 'expected a finite number' }).nullable(),
  shift: z.number().refine(Number.isFinite, { error: 'expected a finite number' }),
  canaryMedian: z.number().refine(Number.isFinite, { error: 'expected a finite number' }),
  primaryMedian: z.number().refine(Number.isFinite, { error: 'expected a finite number' }),
  direction: z.enum(COMPARE_DIRECTIONS),
  method: z.enum(['exact', 'asymptotic']),
  sampleSizes: z.strictObject({ canary: z.number().int().min(0), primary: z.number().int().min(0) }),
});
export type ComparisonFacts = z.output<typeof comparisonFactsSchema>;

const COMPARE_ONLY = ['direction', 'confidence', 'tolerance', 'minSamples'] as const;
const QUERY_ONLY = ['min', 'max', 'value', 'failureLimit', 'inconclusive'] as const;

type At = (...rest: (string | number)[]) => (string | number)[];

/** The cross-field rules of a comparison check (on the raw check, tolerant of wrong types). */
export function comparisonIssues(check: Obj, at: At): PolicyIssue[] {
  if (check.compare === undefined) {
    return COMPARE_ONLY.filter((field) => check[field] !== undefined).map((field) => ({
      path: at(field),
      message: `"${field}" belongs to a comparison check (one with "compare" instead of "query")`,
    }));
  }
  const issues: PolicyIssue[] = [];
  if (check.query !== undefined)
    issues.push({ path: at(), message: 'a check has exactly one of "query" or "compare"' });
  for (const field of QUERY_ONLY.filter((f) => check[f] !== undefined))
    issues.push({
      path: at(field),
      message: `a comparison check has no "${field}": it judges canary against primary (direction, confidence, tolerance)`,
    });
  return [...issues, ...sampleIssues(check, at)];
}

/** The window must give at least minSamples samples a side, and at most MAX_SAMPLES. */
function sampleIssues(check: Obj, at: At): PolicyIssue[] {
  if (!isObj(check.compare)) return [];
  const window = parseDuration(typeof check.compare.window === 'string' ? check.compare.window : '10m');
  const step = parseDuration(typeof check.compare.step === 'string' ? check.compare.step : '15s');
  if (window === null || step === null || step === 0) return [];
  const minSamples = typeof check.minSamples === 'number' ? check.minSamples : COMPARE_DEFAULTS.minSamples;
  const samples = Math.floor(window / step) + 1;
  const span = `window ${formatDuration(window)} at step ${formatDuration(step)} gives`;
  if (samples < minSamples)
    return [
      {
        path: at('compare', 'window'),
        message: `${span} at most ${samples} samples a side, fewer than minSamples ${minSamples}: it could never pass`,
      },
    ];
  if (samples > MAX_SAMPLES)
    return [{ path: at('compare', 'step'), message: `${span} ${samples} samples a side; at most ${MAX_SAMPLES}` }];
  return [];
}
