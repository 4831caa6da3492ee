import type { DatadogSpec } from '../../pipeline/policy/schema.js';
import {
  ambiguous,
  EMPTY,
  httpFailure,
  isObj,
  maybeJson,
  parseJson,
  strings,
  trySample,
  type Answer,
  type Obj,
} from './answer.js';
import {
  displayUrl,
  limitsOf,
  specIdentity,
  timeoutMs,
  type Backend,
  type QueryEnv,
  type RangeAnswer,
  type RangePoint,
} from './backend.js';
import { finiteNumber, observedAtOf } from './extract.js';
import type { HttpResponse } from './http.js';
import { MetricError, type MeasureContext, type Sample } from './types.js';

/** The API address of a Datadog site: `datadoghq.eu` → `https://api.datadoghq.eu`. */
export function datadogAddress(spec: Pick<DatadogSpec, 'site' | 'address'>): string {
  return (spec.address ?? `https://api.${spec.site}`).replace(/\/+$/, '');
}

/**
 * Datadog metrics queries: GET /api/v1/query over a window of one interval ending at the tick.
 * The default value is the last non-null point of the single series. A `value` jsonata expression
 * sees the whole response body (`{status, res_type, series, from_date, to_date, query}`).
 */
export function datadogBackend(spec: DatadogSpec): Backend {
  const base = datadogAddress(spec);
  const budget = timeoutMs(spec.timeout);
  const get = async (query: string, [from, to]: [number, number], ctx: MeasureContext, { http }: QueryEnv) => {
    const [apiKey, appKey] = await Promise.all([
      ctx.secrets.read(ctx.policy.namespace, spec.apiKeySecretRef),
      ctx.secrets.read(ctx.policy.namespace, spec.appKeySecretRef),
    ]);
    const url = new URL(`${base}/api/v1/query`);
    url.searchParams.set('from', String(from));
    url.searchParams.set('to', String(to));
    url.searchParams.set('query', query);
    const headers = { 'DD-API-KEY': apiKey, 'DD-APPLICATION-KEY': appKey, accept: 'application/json' };
    return http.request({ url, method: 'GET', headers }, limitsOf(budget, ctx));
  };
  return {
    kind: 'datadog',
    language: 'datadog',
    where: `datadog ${displayUrl(base)}`,
    maxPoints: Infinity,
    cacheKey: (ctx) => `${specIdentity('datadog', spec, ctx)}\u0000${ctx.intervalSeconds}`,
    async query(query, ctx, env) {
      const to = Math.floor(ctx.time.getTime() / 1000);
      return parseAnswer(await get(query, [to - windowSeconds(ctx), to], ctx, env));
    },
    async queryRange(query, range, ctx, env) {
      const from = Math.floor((range.startMs - (range.windowMs ?? range.stepMs)) / 1000);
      return parseRangeAnswer(await get(query, [from, Math.ceil(range.endMs / 1000)], ctx, env));
    },
    answerAt(range, timeMs, ctx) {
      const from = timeMs - windowSeconds(ctx) * 1000;
      const series = range.series.map((s) => ({
        ...(s.source as Obj),
        pointlist: s.points.filter((p) => p.t >= from && p.t <= timeMs).map((p) => p.raw),
      }));
      const doc = { status: 'ok', res_type: 'time_series', series };
      return { doc, sample: trySample(() => pick(series)), shape: shapeOf(series), warnings: [], bytes: 0 };
    },
  };
}

const finiteOrNull = (value: unknown): number | null =>
  typeof value === 'number' && Number.isFinite(value) ? value : null;

/** A live query reads one interval back from the tick (at least a second). */
const windowSeconds = (ctx: MeasureContext): number => Math.max(Math.round(ctx.intervalSeconds), 1);

const HINTS: Record<number, string> = {
  401: 'check the API key and the site',
  403: 'check the API and application keys, their scopes and the site',
  429: 'rate limit reached',
};

/** The `series` of a successful answer, and the whole body; throws for errors of the request as a whole. */
function seriesOf(res: HttpResponse): { doc: Obj; series: unknown[] } {
  if (res.status !== 200) {
    const errors = strings(isObj(maybeJson(res)) ? (maybeJson(res) as Obj).errors : undefined);
    throw httpFailure(res, [...errors, HINTS[res.status]].filter(Boolean).join('; ') || undefined);
  }
  const doc = parseJson(res);
  if (!isObj(doc)) throw new MetricError('the answer is not a Datadog query response');
  const errors = [...strings(doc.errors), ...(typeof doc.error === 'string' && doc.error ? [doc.error] : [])];
  if (errors.length || doc.status === 'error')
    throw new MetricError(`Datadog error: ${errors.join('; ') || 'status "error"'}`);
  if (!Array.isArray(doc.series)) throw new MetricError('the answer has no "series" list');
  return { doc, series: doc.series as unknown[] };
}

export function parseAnswer(res: HttpResponse): Answer {
  const { doc, series } = seriesOf(res);
  return { doc, sample: trySample(() => pick(series)), shape: shapeOf(series), warnings: [], bytes: res.body.length };
}

/** A timeseries answer over a range: each series with its points (Datadog's times are in ms already). */
export function parseRangeAnswer(res: HttpResponse): RangeAnswer {
  const { series } = seriesOf(res);
  return {
    series: series.map((source) => {
      const { pointlist: _points, ...labels } = isObj(source) ? source : {};
      return {
        name: typeof labels.scope === 'string' ? labels.scope : '?',
        points: points(source).flatMap((raw): RangePoint[] =>
          Array.isArray(raw) && typeof raw[0] === 'number' ? [{ t: raw[0], value: finiteOrNull(raw[1]), raw }] : [],
        ),
        source: labels,
      };
    }),
    shape: shapeOf(series),
    warnings: [],
    bytes: res.body.length,
  };
}

function points(series: unknown): unknown[] {
  return isObj(series) && Array.isArray(series.pointlist) ? series.pointlist : [];
}

function shapeOf(series: unknown[]): string {
  const detail =
    series.length === 1
      ? (() => {
          const list = points(series[0]);
          const nulls = list.filter((p) => !Array.isArray(p) || p[1] === null).length;
          return `, ${list.length} points${nulls ? ` (${nulls} null)` : ''}`;
        })()
      : '';
  return `time_series with ${series.length} series${detail}`;
}

function pick(series: unknown[]): Sample {
  if (series.length === 0) throw new MetricError(EMPTY);
  if (series.length > 1)
    throw ambiguous(
      series.length,
      'series',
      series.map((s) => (isObj(s) && typeof s.scope === 'string' ? s.scope : '?')),
    );
  const list = points(series[0]);
  for (let i = list.length - 1; i >= 0; i--) {
    const point = list[i];
    if (!Array.isArray(point) || point[1] === null || point[1] === undefined) continue;
    const [ts, raw] = point as [unknown, unknown];
    const observedAt = typeof ts === 'number' ? observedAtOf(ts, 'the last non-null point') : undefined;
    return { value: finiteNumber(raw, 'the last non-null point'), raw: point, ...(observedAt ? { observedAt } : {}) };
  }
  throw new MetricError(
    list.length
      ? `no data: all ${list.length} points of the series are null`
      : 'no data: the series has no points in the window',
  );
}
