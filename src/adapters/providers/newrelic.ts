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
import { displayUrl, limitsOf, specIdentity, timeoutMs, type Backend } from './backend.js';
import { finiteNumber } from './extract.js';
import type { HttpResponse } from './http.js';
import { MetricError, type Sample } from './types.js';

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
  return {
    kind: 'newRelic',
    language: 'nrql',
    where: `newRelic ${displayUrl(address)}`,
    cacheKey: (ctx) => specIdentity('newRelic', spec, ctx),
    async query(nrql, ctx, { http }) {
      const apiKey = await ctx.secrets.read(ctx.policy.namespace, spec.apiKeySecretRef);
      const body = JSON.stringify({
        query: nerdGraphQuery(Math.max(1, Math.floor(budget / 1000))),
        variables: { accountId: spec.accountId, nrql },
      });
      const headers = { 'API-Key': apiKey, 'content-type': 'application/json', accept: 'application/json' };
      const url = new URL(address);
      const res = await http.request({ url, method: 'POST', headers, body }, limitsOf(budget, ctx));
      if (graphqlErrors(maybeJson(res)).rateLimited) http.holdOff(url, RATE_LIMIT_BACKOFF_MS);
      return parseAnswer(res, spec.accountId);
    },
  };
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

export function parseAnswer(res: HttpResponse, accountId: number): Answer {
  if (res.status !== 200) throw httpFailure(res, graphqlErrors(maybeJson(res)).messages.join('; ') || undefined);
  const doc = parseJson(res);
  const errors = graphqlErrors(doc).messages;
  if (errors.length) throw new MetricError(`NerdGraph error: ${errors.join('; ')}`);
  const nrql = nrqlOf(doc, accountId);
  if (nrql.results === null || nrql.results === undefined)
    throw new MetricError('results: null (the NRQL query returned nothing)');
  if (!Array.isArray(nrql.results)) throw new MetricError('results is not a list');
  const rows: unknown[] = nrql.results;
  const shape =
    rows.length === 1 && isObj(rows[0])
      ? `1 row with fields ${Object.keys(rows[0]).join(', ')}`
      : `${rows.length} rows`;
  return { doc: nrql, sample: trySample(() => pick(rows)), shape, warnings: [], bytes: res.body.length };
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
