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
import { displayUrl, limitsOf, specIdentity, timeoutMs, type Backend } from './backend.js';
import { MetricError, type MeasureContext, type Sample } from './types.js';

/**
 * Prometheus instant queries: POST /api/v1/query (form body) at the tick's time. The default value
 * is the scalar, or the sample of a one-series vector. A `value` jsonata expression sees the API's
 * `data` object: `{resultType, result}`.
 */
export function prometheusBackend(spec: PrometheusSpec): Backend {
  const base = spec.address.replace(/\/+$/, '');
  const budget = timeoutMs(spec.timeout);
  return {
    kind: 'prometheus',
    language: 'promql',
    where: `prometheus ${displayUrl(base)}`,
    cacheKey: (ctx) => specIdentity('prometheus', spec, ctx),
    async query(query, ctx, { http, sensitive }) {
      const [headers, ca] = await Promise.all([
        authHeaders(spec, ctx, sensitive),
        spec.caSecretRef ? ctx.secrets.read(ctx.policy.namespace, spec.caSecretRef) : undefined,
      ]);
      const form = new URLSearchParams({
        query,
        time: (ctx.time.getTime() / 1000).toFixed(3),
        timeout: String(budget / 1000),
      });
      const res = await http.request(
        {
          url: new URL(`${base}/api/v1/query`),
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
          body: form.toString(),
          ca,
        },
        limitsOf(budget, ctx),
      );
      return parseAnswer(res);
    },
  };
}

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

/** Parses an API answer; throws for errors of the request as a whole, keeps value errors as data. */
export function parseAnswer(res: HttpResponse): Answer {
  if (res.status !== 200) throw httpFailure(res, apiError(maybeJson(res)));
  const doc = parseJson(res);
  if (!isObj(doc) || typeof doc.status !== 'string')
    throw new MetricError('the answer is not a Prometheus API response (no "status")');
  if (doc.status !== 'success')
    throw new MetricError(`Prometheus ${apiError(doc) ?? `status ${JSON.stringify(doc.status)}`}`);
  if (!isObj(doc.data)) throw new MetricError('the answer has no "data"');
  const data = doc.data;
  return {
    doc: data,
    sample: trySample(() => pick(data)),
    shape: shapeOf(data),
    warnings: [...strings(doc.warnings), ...strings(doc.infos)],
    bytes: res.body.length,
  };
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
