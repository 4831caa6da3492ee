import type { MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { parseDuration } from '../../pipeline/policy/duration.js';
import type { CloudWatchSpec } from '../../pipeline/policy/schema.js';
import { ambiguous, isObj, trySample, type Answer } from './answer.js';
import { displayUrl, specIdentity, type Backend, type RangeAnswer, type RangeSeries } from './backend.js';
import type { MetricSeries } from './cloudwatch-sdk.js';
import { MetricError, type Sample } from './types.js';

/**
 * Amazon CloudWatch (docs/checks.md, "CloudWatch"): GetMetricData with the check's query as its MetricDataQueries
 * (JSON), from `lookback` before the tick to the tick. A check's `value` jsonata expression sees an object of each
 * returned query's Id and its newest datapoint (null when it has none), so `value: errors` names the query; without
 * one the answer must hold exactly one query. No datapoint is `unavailable` (an empty answer never passes).
 */
/**
 * The SDK is loaded on first use: a controller without a cloudWatch provider never loads it (its own chunk of the
 * bundle).
 */
const sdk = () => import('./cloudwatch-sdk.js');

export function cloudWatchBackend(spec: CloudWatchSpec): Backend {
  const lookbackMs = (parseDuration(spec.lookback) ?? 300) * 1000;
  const where = `cloudWatch ${spec.region}${spec.endpoint ? ` ${displayUrl(spec.endpoint)}` : ''}`;
  return {
    kind: 'cloudWatch',
    language: 'json',
    where,
    // GetMetricData pages its answer (NextToken): one request covers any range.
    maxPoints: Infinity,
    cacheKey: (ctx) => specIdentity('cloudWatch', spec, ctx),
    async query(rendered, ctx, env) {
      const endMs = ctx.time.getTime();
      const asked = { queries: metricDataQueries(rendered), startMs: endMs - lookbackMs, endMs, newestFirst: true };
      return answerOf(await (await sdk()).getMetricData(spec, asked, ctx, env), lookbackMs);
    },
    async queryRange(rendered, range, ctx, env) {
      const asked = {
        queries: metricDataQueries(rendered),
        startMs: range.startMs - lookbackMs,
        endMs: range.endMs,
        newestFirst: false,
      };
      return rangeOf(await (await sdk()).getMetricData(spec, asked, ctx, env));
    },
    answerAt: (range, timeMs) => answerOf(seriesAt(range, timeMs, lookbackMs), lookbackMs),
  };
}

/** The check's query: a JSON list of MetricDataQuery objects (one object alone is a list of one), each with an Id. */
export function metricDataQueries(rendered: string): MetricDataQuery[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(rendered);
  } catch (error) {
    throw new MetricError(`a CloudWatch check's query is its MetricDataQueries as JSON: ${(error as Error).message}`);
  }
  const queries = Array.isArray(parsed) ? parsed : [parsed];
  if (queries.length === 0) throw new MetricError("a CloudWatch check's MetricDataQueries list is empty");
  queries.forEach((query, i) => {
    if (!isObj(query) || typeof query.Id !== 'string' || !query.Id)
      throw new MetricError(`MetricDataQueries[${i}] is not an object with an Id`);
  });
  return queries as MetricDataQuery[];
}

/** The Answer of a GetMetricData read: each series' newest point in the lookback. */
function answerOf(series: MetricSeries[], lookbackMs: number): Answer {
  const doc: Record<string, number | null> = {};
  for (const s of series) doc[s.id] = newest(s)?.value ?? null;
  const warnings = series.flatMap((s) => [
    ...(s.status && s.status !== 'Complete' ? [`${s.id}: status ${s.status}`] : []),
    ...s.messages,
  ]);
  return {
    doc,
    sample: trySample(() => pick(series, lookbackMs)),
    shape: shapeOf(series),
    warnings,
    bytes: series.reduce((sum, s) => sum + 32 * s.points.length + 64, 0),
  };
}

const newest = (s: MetricSeries) =>
  s.points.reduce<MetricSeries['points'][number] | undefined>(
    (best, p) => (best === undefined || p.t > best.t ? p : best),
    undefined,
  );

function pick(series: MetricSeries[], lookbackMs: number): Sample {
  if (series.length === 0) throw new MetricError('empty result: GetMetricData returned no query results');
  if (series.length > 1)
    throw ambiguous(
      series.length,
      "query results (set the check's value to the Id of the one to read, or ReturnData: false on the others)",
      series.map((s) => s.id),
    );
  const only = series[0]!;
  const point = newest(only);
  if (!point)
    throw new MetricError(
      `empty result: ${only.id} (${only.label}) has no datapoint in the last ${lookbackMs / 1000}s`,
    );
  return { value: point.value, raw: point.value, observedAt: new Date(point.t).toISOString() };
}

/** `1 result: errors (3 points)`. */
function shapeOf(series: MetricSeries[]): string {
  const each = series.slice(0, 4).map((s) => `${s.id} (${s.points.length} point${s.points.length === 1 ? '' : 's'})`);
  const more = series.length > 4 ? ', …' : '';
  return `${series.length} result${series.length === 1 ? '' : 's'}${each.length ? `: ${each.join(', ')}${more}` : ''}`;
}

function rangeOf(series: MetricSeries[]): RangeAnswer {
  return {
    series: series.map((s) => ({
      name: s.id,
      points: s.points.map((p) => ({ t: p.t, value: p.value, raw: p.value })),
      source: s,
    })),
    shape: shapeOf(series),
    warnings: series.flatMap((s) => s.messages),
    bytes: series.reduce((sum, s) => sum + 32 * s.points.length + 64, 0),
  };
}

/** Each series as an instant read at `timeMs` would have seen it: its points in (timeMs − lookback, timeMs]. */
function seriesAt(range: RangeAnswer, timeMs: number, lookbackMs: number): MetricSeries[] {
  return range.series.map((s: RangeSeries) => {
    const source = s.source as MetricSeries;
    const points = source.points.filter((p) => p.t <= timeMs && p.t > timeMs - lookbackMs);
    return { ...source, points };
  });
}
