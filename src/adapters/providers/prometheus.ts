import type { PrometheusSpec } from '../../pipeline/policy/schema.js';
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
import { describe, finiteNumber, observedAtOf } from './extract.js';
import type { HttpResponse } from './http.js';
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
import { MetricError, type MeasureContext, type Sample } from './types.js';

/**
 * Prometheus instant queries: POST /api/v1/query (form body) at the tick's time. The default value
 * is the scalar, or the sample of a one-series vector. A `value` jsonata expression sees the API's
 * `data` object: `{resultType, result}`.
 */
export function prometheusBackend(spec: PrometheusSpec): Backend {
  const base = spec.address.replace(/\/+$/, '');
  const budget = timeoutMs(spec.timeout);
  const post = async (path: string, form: Record<string, string>, ctx: MeasureContext, env: QueryEnv) => {
    const [headers, ca] = await Promise.all([
      authHeaders(spec, ctx, env.sensitive),
      spec.caSecretRef ? ctx.secrets.read(ctx.policy.namespace, spec.caSecretRef) : undefined,
    ]);
    const body = new URLSearchParams({ ...form, timeout: String(budget / 1000) }).toString();
    return env.http.request(
      {
        url: new URL(`${base}${path}`),
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body,
        ca,
      },
      limitsOf(budget, ctx),
    );
  };
  return {
    kind: 'prometheus',
    language: 'promql',
    where: `prometheus ${displayUrl(base)}`,
    maxPoints: MAX_RANGE_POINTS,
    cacheKey: (ctx) => specIdentity('prometheus', spec, ctx),
    async query(query, ctx, env) {
      return parseAnswer(await post('/api/v1/query', { query, time: unixSeconds(ctx.time.getTime()) }, ctx, env));
    },
    async queryRange(query, range, ctx, env) {
      const form = {
        query,
        start: unixSeconds(range.startMs),
        end: unixSeconds(range.endMs),
        step: String(range.stepMs / 1000),
      };
      return parseRangeAnswer(await post('/api/v1/query_range', form, ctx, env));
    },
    answerAt: instantAnswerAt,
  };
}

/** Prometheus answers at most 11,000 points a series per range query. */
const MAX_RANGE_POINTS = 11_000;

const unixSeconds = (ms: number): string => (ms / 1000).toFixed(3);

export async function authHeaders(
  spec: PrometheusSpec,
  ctx: MeasureContext,
  sensitive: (value: string) => void,
): Promise<Record<string, string>> {
  const read = (ref: Parameters<MeasureContext['secrets']['read']>[1]) => ctx.secrets.read(ctx.policy.namespace, ref);
  const headers: Record<string, string> = {};
  for (const header of spec.headers ?? []) headers[header.name.toLowerCase()] = await read(header.valueSecretRef);
  if (spec.bearerTokenSecretRef) headers.authorization = `Bearer ${await read(spec.bearerTokenSecretRef)}`;
  if (spec.basicAuth) {
    const password = await read(spec.basicAuth.passwordSecretRef);
    const encoded = Buffer.from(`${spec.basicAuth.username}:${password}`).toString('base64');
    sensitive(encoded);
    headers.authorization = `Basic ${encoded}`;
  }
  return headers;
}

/** The `data` of a successful API answer and its warnings; throws for errors of the request as a whole. */
function apiData(res: HttpResponse): { data: Obj; warnings: string[] } {
  if (res.status !== 200) throw httpFailure(res, apiError(maybeJson(res)));
  const doc = parseJson(res);
  if (!isObj(doc) || typeof doc.status !== 'string')
    throw new MetricError('the answer is not a Prometheus API response (no "status")');
  if (doc.status !== 'success')
    throw new MetricError(`Prometheus ${apiError(doc) ?? `status ${JSON.stringify(doc.status)}`}`);
  if (!isObj(doc.data)) throw new MetricError('the answer has no "data"');
  return { data: doc.data, warnings: [...strings(doc.warnings), ...strings(doc.infos)] };
}

/** Parses an instant query's answer; value errors stay data. */
export function parseAnswer(res: HttpResponse): Answer {
  const { data, warnings } = apiData(res);
  return { doc: data, sample: trySample(() => pick(data)), shape: shapeOf(data), warnings, bytes: res.body.length };
}

/** Parses a range query's answer: a matrix, every series with its points. */
export function parseRangeAnswer(res: HttpResponse): RangeAnswer {
  const { data, warnings } = apiData(res);
  if (data.resultType !== 'matrix' || !Array.isArray(data.result))
    throw new MetricError(`a range query answered ${describe(data.resultType)} where a matrix was expected`);
  const series = (data.result as unknown[]).map((item) => {
    const source = isObj(item) ? item : {};
    const values = Array.isArray(source.values) ? (source.values as unknown[]) : [];
    const points = values.flatMap((raw): RangePoint[] =>
      Array.isArray(raw) && typeof raw[0] === 'number'
        ? [{ t: Math.round(raw[0] * 1000), value: numberOrNull(raw[1]), raw }]
        : [],
    );
    return { name: labels(source.metric), points, source: { metric: source.metric } };
  });
  return { series, shape: shapeOf(data), warnings, bytes: res.body.length };
}

const numberOrNull = (raw: unknown): number | null => {
  const value = typeof raw === 'string' ? Number(raw) : NaN;
  return Number.isFinite(value) ? value : null;
};

/**
 * The instant answer at a tick, from a range answer whose step is the interval: every series with a
 * point at that time, as the vector an instant query then gives (a series without one is absent, as
 * it would be from a live answer: a gap is an empty result, `unavailable`).
 */
function instantAnswerAt(range: RangeAnswer, timeMs: number): Answer {
  const result = range.series.flatMap((series) => {
    const point = series.points.find((p) => p.t === timeMs);
    return point ? [{ metric: (series.source as Obj).metric, value: point.raw }] : [];
  });
  const data = { resultType: 'vector', result };
  return { doc: data, sample: trySample(() => pick(data)), shape: shapeOf(data), warnings: range.warnings, bytes: 0 };
}

export function apiError(doc: unknown): string | undefined {
  if (!isObj(doc) || typeof doc.error !== 'string') return undefined;
  return `error${typeof doc.errorType === 'string' ? ` (${doc.errorType})` : ''}: ${doc.error}`;
}

function count(data: Obj): number {
  return Array.isArray(data.result) ? data.result.length : 0;
}

function shapeOf(data: Obj): string {
  const type = String(data.resultType);
  return type === 'vector' || type === 'matrix' ? `${type} with ${count(data)} series` : type;
}

function pick(data: Obj): Sample {
  const result = data.result;
  switch (data.resultType) {
    case 'scalar':
      return sample(result);
    case 'vector':
      if (!Array.isArray(result)) break;
      if (result.length === 0) throw new MetricError(EMPTY);
      if (result.length > 1)
        throw ambiguous(
          result.length,
          'series',
          result.map((s) => labels(isObj(s) ? s.metric : undefined)),
        );
      if (isObj(result[0]) && result[0].histogram !== undefined)
        throw new MetricError(
          'a native histogram sample was returned where a number was expected (use histogram_quantile, ' +
            'histogram_count, …)',
        );
      return sample(isObj(result[0]) ? result[0].value : undefined);
    case 'matrix':
      throw new MetricError(
        `a range vector (matrix with ${count(data)} series) was returned where a scalar or one-series instant vector ` +
          `was expected`,
      );
    case 'string':
      throw new MetricError(
        `a string (${describe(Array.isArray(result) ? result[1] : result)}) was returned where a number was expected`,
      );
  }
  throw new MetricError(`unexpected result type ${describe(data.resultType)}`);
}

function sample(value: unknown): Sample {
  if (!Array.isArray(value) || value.length !== 2 || typeof value[0] !== 'number')
    throw new MetricError(`malformed sample ${describe(value)}`);
  const raw: unknown = value[1];
  return { value: finiteNumber(raw, 'the sample'), raw, observedAt: observedAtOf(value[0] * 1000, 'the sample') };
}

function labels(metric: unknown): string {
  if (!isObj(metric)) return '{}';
  return `{${Object.entries(metric)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(',')}}`;
}
