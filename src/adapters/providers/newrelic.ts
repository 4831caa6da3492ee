import type { NewRelicSpec } from '../../pipeline/policy/schema.js';
import {
  ambiguous,
  EMPTY,
  httpFailure,
  isObj,
  maybeJson,
  parseJson,
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
  type QueryRange,
  type RangeAnswer,
  type RangePoint,
} from './backend.js';
import { finiteNumber } from './extract.js';
import type { HttpResponse } from './http.js';
import { MetricError, type MeasureContext, type Sample } from './types.js';

const ENDPOINTS = { US: 'https://api.newrelic.com/graphql', EU: 'https://api.eu.newrelic.com/graphql' } as const;

/** The NerdGraph address of a region (or the spec's override). */
export function newRelicAddress(spec: Pick<NewRelicSpec, 'region' | 'address'>): string {
  return (spec.address ?? ENDPOINTS[spec.region]).replace(/\/+$/, '');
}

/** The NRQL travels as a GraphQL variable; only our own integer timeout is part of the document. */
export function nerdGraphQuery(timeoutSeconds: number): string {
  return (
    `query Kubestead($accountId: Int!, $nrql: Nrql!) { actor { account(id: $accountId) { nrql(query: $nrql, ` +
    `timeout: ${timeoutSeconds}) { results } } } }`
  );
}

/**
 * New Relic NRQL through NerdGraph: POST /graphql with `API-Key`. The default value is the single
 * numeric field of the single row (a field holding an object is looked into one level, as
 * percentile() answers). A `value` jsonata expression sees the `nrql` object: `{results: [...]}`.
 */
export function newRelicBackend(spec: NewRelicSpec): Backend {
  const address = newRelicAddress(spec);
  const budget = timeoutMs(spec.timeout);
  const post = async (nrql: string, ctx: MeasureContext, { http }: QueryEnv): Promise<HttpResponse> => {
    const apiKey = await ctx.secrets.read(ctx.policy.namespace, spec.apiKeySecretRef);
    const body = JSON.stringify({
      query: nerdGraphQuery(Math.max(1, Math.floor(budget / 1000))),
      variables: { accountId: spec.accountId, nrql },
    });
    const headers = { 'API-Key': apiKey, 'content-type': 'application/json', accept: 'application/json' };
    const url = new URL(address);
    const res = await http.request({ url, method: 'POST', headers, body }, limitsOf(budget, ctx));
    if (graphqlErrors(maybeJson(res)).rateLimited) http.holdOff(url, RATE_LIMIT_BACKOFF_MS);
    return res;
  };
  return {
    kind: 'newRelic',
    language: 'nrql',
    where: `newRelic ${displayUrl(address)}`,
    maxPoints: MAX_BUCKETS,
    cacheKey: (ctx) => specIdentity('newRelic', spec, ctx),
    async query(nrql, ctx, env) {
      return parseAnswer(await post(nrql, ctx, env), spec.accountId);
    },
    async queryRange(nrql, range, ctx, env) {
      return parseRangeAnswer(await post(rangeNrql(nrql, range), ctx, env), spec.accountId);
    },
    answerAt(range, timeMs) {
      const rows = range.series.flatMap((series) => {
        const point = series.points.find((p) => p.t === timeMs);
        return point ? [withoutTimes(point.raw as Obj)] : [];
      });
      const doc = { results: rows };
      return { doc, sample: trySample(() => pick(rows)), shape: shapeOfRows(rows), warnings: [], bytes: 0 };
    },
  };
}

/** NRQL answers at most 366 buckets a TIMESERIES query. */
const MAX_BUCKETS = 366;

const UNIT_SECONDS: Record<string, number> = { second: 1, minute: 60, hour: 3600, day: 86_400, week: 604_800 };
const SINCE_AGO = /\bSINCE\s+(\d+(?:\.\d+)?)\s+(second|minute|hour|day|week)s?\s+AGO\b/i;
const OTHER_TIME = /\b(SINCE|UNTIL|TIMESERIES|COMPARE\s+WITH|SLIDE\s+BY)\b/i;

/**
 * The NRQL of a range: the query's own `SINCE n units ago` (its window, an hour when it has none,
 * as NRQL's default) is taken out, and `SINCE … UNTIL … TIMESERIES` put in its place: one bucket
 * per step, each as long as the window and ending at a tick (`SLIDE BY` the step when the window
 * is longer), so that every bucket is what the live query would have answered at its end.
 */
export function rangeNrql(nrql: string, range: QueryRange): string {
  const since = SINCE_AGO.exec(nrql);
  const rest = since ? nrql.replace(since[0], ' ') : nrql;
  const clause = OTHER_TIME.exec(rest);
  if (clause)
    throw new MetricError(
      `the NRQL has ${clause[1]!.toUpperCase()} of its own: a range can be asked only of a query whose time ` +
        `clause is at most "SINCE n minutes ago"`,
    );
  const windowMs =
    range.windowMs ?? (since ? Number(since[1]) * UNIT_SECONDS[since[2]!.toLowerCase()]! * 1000 : 3_600_000);
  if (windowMs < range.stepMs)
    throw new MetricError(`the NRQL's window (${windowMs / 1000}s) is shorter than a step (${range.stepMs / 1000}s)`);
  const slide = windowMs > range.stepMs ? ` SLIDE BY ${range.stepMs / 1000} seconds` : '';
  return (
    `${rest.trim()} SINCE ${range.startMs - windowMs} UNTIL ${range.endMs} TIMESERIES ${windowMs / 1000} seconds` +
    slide
  );
}

/** A TIMESERIES answer: its buckets as one series, each at its end. */
export function parseRangeAnswer(res: HttpResponse, accountId: number): RangeAnswer {
  const rows = resultRows(res, accountId);
  const buckets = rows.filter(isObj);
  if (buckets.length !== rows.length || buckets.some((row) => typeof row.endTimeSeconds !== 'number'))
    throw new MetricError('the answer is not one TIMESERIES (rows without endTimeSeconds: a FACET?)');
  const points = buckets.map((row): RangePoint => {
    const sample = trySample(() => pick([withoutTimes(row)]));
    return { t: (row.endTimeSeconds as number) * 1000, value: 'error' in sample ? null : sample.value, raw: row };
  });
  return {
    series: [{ name: 'nrql', points, source: {} }],
    shape: `${rows.length} buckets`,
    warnings: [],
    bytes: res.body.length,
  };
}

function withoutTimes(row: Obj): Obj {
  const { beginTimeSeconds: _begin, endTimeSeconds: _end, ...fields } = row;
  return fields;
}

/** NRQL's limit is per minute and NerdGraph sends no Retry-After: after TOO_MANY_REQUESTS, wait a minute. */
const RATE_LIMIT_BACKOFF_MS = 60_000;

function graphqlErrors(doc: unknown): { messages: string[]; rateLimited: boolean } {
  if (!isObj(doc) || !Array.isArray(doc.errors)) return { messages: [], rateLimited: false };
  const errors: unknown[] = doc.errors;
  return {
    messages: errors.map((e) => (isObj(e) && typeof e.message === 'string' ? e.message : JSON.stringify(e))),
    rateLimited: errors.some((e) => isObj(e) && isObj(e.extensions) && e.extensions.errorClass === 'TOO_MANY_REQUESTS'),
  };
}

/** The `nrql` object of a successful answer; throws for errors of the request as a whole. */
function nrqlAnswer(res: HttpResponse, accountId: number): Obj {
  if (res.status !== 200) throw httpFailure(res, graphqlErrors(maybeJson(res)).messages.join('; ') || undefined);
  const doc = parseJson(res);
  const errors = graphqlErrors(doc).messages;
  if (errors.length) throw new MetricError(`NerdGraph error: ${errors.join('; ')}`);
  const nrql = nrqlOf(doc, accountId);
  if (nrql.results === null || nrql.results === undefined)
    throw new MetricError('results: null (the NRQL query returned nothing)');
  if (!Array.isArray(nrql.results)) throw new MetricError('results is not a list');
  return nrql;
}

const resultRows = (res: HttpResponse, accountId: number): unknown[] => nrqlAnswer(res, accountId).results as unknown[];

function shapeOfRows(rows: unknown[]): string {
  return rows.length === 1 && isObj(rows[0])
    ? `1 row with fields ${Object.keys(rows[0]).join(', ')}`
    : `${rows.length} rows`;
}

export function parseAnswer(res: HttpResponse, accountId: number): Answer {
  const nrql = nrqlAnswer(res, accountId);
  const rows = nrql.results as unknown[];
  return {
    doc: nrql,
    sample: trySample(() => pick(rows)),
    shape: shapeOfRows(rows),
    warnings: [],
    bytes: res.body.length,
  };
}

function nrqlOf(doc: unknown, accountId: number): Obj {
  const account = isObj(doc) && isObj(doc.data) && isObj(doc.data.actor) ? doc.data.actor.account : undefined;
  if (!isObj(account)) throw new MetricError(`no account ${accountId} in the answer (is the key allowed to read it?)`);
  if (!isObj(account.nrql)) throw new MetricError('no nrql result in the answer');
  return account.nrql;
}

/** Candidate fields: numbers or nulls at the top level, or one level down inside an object. */
function candidates(row: Obj): [string, unknown][] {
  return Object.entries(row).flatMap(([key, value]): [string, unknown][] => {
    if (typeof value === 'number' || value === null) return [[key, value]];
    if (!isObj(value)) return [];
    return Object.entries(value)
      .filter(([, v]) => typeof v === 'number' || v === null)
      .map(([k, v]): [string, unknown] => [`${key}.${k}`, v]);
  });
}

function pick(rows: unknown[]): Sample {
  if (rows.length === 0) throw new MetricError(EMPTY.replace('series', 'rows'));
  if (rows.length > 1) throw ambiguous(rows.length, 'rows', []);
  const row = rows[0];
  if (!isObj(row)) throw new MetricError('the row is not an object');
  const fields = candidates(row);
  if (fields.length !== 1 || !fields[0]) {
    const names = fields.map(([k]) => k).join(', ') || 'none';
    throw new MetricError(
      `the row has ${fields.length} numeric fields (${names}) where one was expected; set the check's value expression`,
    );
  }
  const [name, raw] = fields[0];
  return { value: finiteNumber(raw, `field ${JSON.stringify(name)}`), raw: { [name]: raw } };
}
