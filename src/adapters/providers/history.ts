import type { ProviderSpec } from '../../pipeline/policy/schema.js';
import { isObj, maybeJson, httpFailure, parseJson } from './answer.js';
import { limitsOf, timeoutMs } from './backend.js';
import type { HttpClient } from './http.js';
import { apiError, authHeaders } from './prometheus.js';
import { providerKind, scrub } from './provider.js';
import { MetricError, type MeasureContext } from './types.js';
import type { SecretReader } from '../secrets/reader.js';

/** A window of a range query: from, to, and the resolution. */
export interface RangeWindow {
  from: Date;
  to: Date;
  stepSeconds: number;
}

export interface RangeEnv {
  http: HttpClient;
  secrets: SecretReader;
  /** The policy's namespace (its providers' Secrets are there). */
  namespace: string;
  signal?: AbortSignal;
}

/** A check's values over a window, or why there are none (never a credential). */
export type RangeValues = { points: Array<{ time: string; value: number }> } | { note: string };

/**
 * A rendered query's values over a window, where the provider has range queries (Prometheus:
 * `/api/v1/query_range`); for the others a note says so. Used for the history of a rollback report.
 */
export async function rangeValues(
  spec: ProviderSpec,
  query: string,
  window: RangeWindow,
  env: RangeEnv,
): Promise<RangeValues> {
  const kind = providerKind(spec);
  if (kind !== 'prometheus' || !spec.prometheus) return { note: `${kind} has no range queries in Kubestead yet` };
  const seen: string[] = [];
  try {
    return { points: await prometheusRange(spec.prometheus, query, window, { ...env, seen }) };
  } catch (error) {
    return { note: scrub(error instanceof MetricError ? error.message : String(error), seen) };
  }
}

async function prometheusRange(
  spec: NonNullable<ProviderSpec['prometheus']>,
  query: string,
  window: RangeWindow,
  env: RangeEnv & { seen: string[] },
): Promise<Array<{ time: string; value: number }>> {
  const { seen } = env;
  const ctx = {
    secrets: { read: async (ns, ref) => (seen.push(await env.secrets.read(ns, ref)), seen.at(-1)!) },
    policy: { namespace: env.namespace, name: '' },
    ...(env.signal ? { signal: env.signal } : {}),
  } as Pick<MeasureContext, 'secrets' | 'policy' | 'signal'> as MeasureContext;
  const headers = await authHeaders(spec, ctx, (value) => void seen.push(value));
  const ca = spec.caSecretRef ? await ctx.secrets.read(env.namespace, spec.caSecretRef) : undefined;
  const form = new URLSearchParams({
    query,
    start: (window.from.getTime() / 1000).toFixed(3),
    end: (window.to.getTime() / 1000).toFixed(3),
    step: String(window.stepSeconds),
  });
  const res = await env.http.request(
    {
      url: new URL(`${spec.address.replace(/\/+$/, '')}/api/v1/query_range`),
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: form.toString(),
      ca,
    },
    limitsOf(timeoutMs(spec.timeout), ctx),
  );
  if (res.status !== 200) throw httpFailure(res, apiError(maybeJson(res)));
  return seriesPoints(parseJson(res));
}

/** The points of a one-series matrix (several series: which one is the check's cannot be told). */
function seriesPoints(doc: unknown): Array<{ time: string; value: number }> {
  const data = isObj(doc) && isObj(doc.data) ? doc.data : undefined;
  const result = data && Array.isArray(data.result) ? data.result : [];
  if (result.length === 0) return [];
  if (result.length > 1)
    throw new MetricError(`the range query returned ${result.length} series where one was expected`);
  const values = isObj(result[0]) && Array.isArray(result[0].values) ? (result[0].values as unknown[]) : [];
  return values.flatMap((pair) => {
    if (!Array.isArray(pair) || typeof pair[0] !== 'number') return [];
    const value = Number(pair[1]);
    return Number.isFinite(value) ? [{ time: new Date(pair[0] * 1000).toISOString(), value }] : [];
  });
}
