import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../../lib/clock/clock.js';
import { renderQuery } from '../../adapters/providers/template.js';
import type { RolloutPolicy } from '../../pipeline/policy/schema.js';
import { LATENCY_BUCKETS, type Counts, type ShopTraffic } from './exporter.js';
import { sendJson, serveLocal, type LocalServer } from './http.js';

/** What one of the demo's queries computes from the canary's traffic in its window. */
type Evaluate = (window: Counts) => number;

/** The histogram_quantile of Prometheus: linear interpolation inside the bucket that holds the rank. */
export function histogramQuantile(q: number, buckets: readonly number[]): number {
  const total = buckets.at(-1) ?? 0;
  if (total === 0) return NaN;
  const rank = q * total;
  const index = buckets.findIndex((count) => count >= rank);
  if (index >= LATENCY_BUCKETS.length) return LATENCY_BUCKETS[LATENCY_BUCKETS.length - 1]!;
  const lower = index === 0 ? 0 : LATENCY_BUCKETS[index - 1]!;
  const below = index === 0 ? 0 : buckets[index - 1]!;
  const inBucket = buckets[index]! - below;
  return lower + (LATENCY_BUCKETS[index]! - lower) * ((rank - below) / inBucket);
}

interface KnownQuery {
  text: string;
  windowMs: number;
  evaluate: Evaluate;
}

/** How the built-in source computes a demo query, by its shape; undefined when it is not one it knows. */
function evaluatorOf(query: string): Omit<KnownQuery, 'text'> | undefined {
  const windows = [...query.matchAll(/\[(\d+)s\]/g)].map((m) => Number(m[1]));
  const windowMs = (windows[0] ?? 0) * 1000;
  if (windowMs === 0 || windows.some((w) => w * 1000 !== windowMs) || !query.includes('track="canary"'))
    return undefined;
  const quantile = /^histogram_quantile\(([\d.]+), sum by \(le\) \(rate\(http_request_duration_seconds_bucket\{/.exec(
    query,
  );
  if (quantile) return { windowMs, evaluate: (c) => histogramQuantile(Number(quantile[1]), c.buckets) };
  if (
    /^sum\(rate\(http_requests_total\{[^}]*code=~"5\.\."\}\[\d+s\]\)\)\s*\/\s*sum\(rate\(http_requests_total\{/.test(
      query,
    )
  )
    return { windowMs, evaluate: (c) => c.errors / c.requests };
  return undefined;
}

const normalize = (query: string): string => query.trim().replace(/\s+/g, ' ');

/** The policy's queries as the metrics provider renders them, each with how to answer it. */
export function demoQueries(policy: RolloutPolicy): KnownQuery[] {
  const values = {
    'target.name': policy.spec.targetRef.name,
    'target.namespace': policy.metadata.namespace,
    'policy.name': policy.metadata.name,
    'rollout.canaryRevision': null,
  };
  return policy.spec.checks.map((check) => {
    if (check.query === undefined)
      throw new Error(`the built-in metrics source cannot answer check "${check.name}": it has no query`);
    const text = normalize(renderQuery(check.query, values, 'promql'));
    const known = evaluatorOf(text);
    if (!known) throw new Error(`the built-in metrics source cannot answer check "${check.name}": ${text}`);
    return { text, ...known };
  });
}

interface Source {
  known: KnownQuery[];
  traffic: ShopTraffic;
  clock: Clock;
}

function answer({ known, traffic, clock }: Source, params: URLSearchParams, res: ServerResponse): void {
  const query = normalize(params.get('query') ?? '');
  const match = known.find((k) => k.text === query);
  if (!match) {
    sendJson(res, 400, {
      status: 'error',
      errorType: 'bad_data',
      error: `the built-in demo metrics source answers only the demo policy's queries; got: ${query.slice(0, 200)}`,
    });
    return;
  }
  const timeParam = params.get('time');
  const atMs = timeParam ? Number(timeParam) * 1000 : clock.now();
  const value = match.evaluate(traffic.counts('canary', atMs - match.windowMs, atMs));
  const result = [{ metric: {}, value: [atMs / 1000, Number.isNaN(value) ? 'NaN' : String(value)] }];
  sendJson(res, 200, { status: 'success', data: { resultType: 'vector', result } });
}

function handle(source: Source) {
  return (req: IncomingMessage, body: string, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/-/ready') return sendJson(res, 200, { ready: true });
    if (url.pathname !== '/api/v1/query')
      return sendJson(res, 404, { status: 'error', errorType: 'not_found', error: 'only /api/v1/query is served' });
    const params = req.method === 'POST' ? new URLSearchParams(body) : url.searchParams;
    answer(source, params, res);
  };
}

/**
 * A stand-in for Prometheus when none is installed: it serves /api/v1/query (GET or POST form,
 * as the Prometheus HTTP API) for exactly the demo policy's queries, computed from the shop's
 * traffic; any other query gets a Prometheus-style `bad_data` error.
 */
export function startBuiltInPrometheus(
  policy: RolloutPolicy,
  traffic: ShopTraffic,
  clock: Clock,
  port = 0,
): Promise<LocalServer> {
  return serveLocal(handle({ known: demoQueries(policy), traffic, clock }), port);
}
