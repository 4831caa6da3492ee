import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newRelicAddress } from '../../src/adapters/providers/newrelic.js';
import { createMetricsRuntime, createProvider, type MetricsRuntime } from '../../src/adapters/providers/provider.js';
import { staticSecretReader } from '../../src/adapters/secrets/reader.js';
import { newRelic } from './fixtures/newrelic.js';
import { check, json, startServer, tickContext, type TestServer } from './helpers.js';

const NRQL = "SELECT count(*) FROM Transaction WHERE appName = '{{ target.name }}' SINCE 5 minutes ago";

describe('New Relic NerdGraph (a local server answering as the documented API)', () => {
  let server: TestServer;
  let runtime: MetricsRuntime;
  beforeAll(async () => {
    server = await startServer((req, res) => {
      const name = req.url.pathname.slice(1);
      if (name === 'slow') return void setTimeout(() => json(res, 200, newRelic.count), 3000);
      if (name === 'huge')
        return json(res, 200, {
          data: { actor: { account: { nrql: { results: [{ count: 1, pad: 'x'.repeat(5 * 1024 * 1024) }] } } } },
        });
      if (name === 'http-401') return json(res, 401, newRelic.unauthorized);
      const body = (newRelic as Record<string, unknown>)[name];
      json(res, body === undefined ? 404 : 200, body ?? { errors: [{ message: 'not found' }] });
    });
    runtime = createMetricsRuntime();
  });
  afterAll(async () => {
    await runtime.http.close();
    await server.close();
  });

  const secrets = staticSecretReader({ 'newrelic/api-key': 'NRAK-TESTKEY0001' });
  const measure = (
    name: string,
    extra: { value?: string; timeout?: string; name?: string; runtime?: MetricsRuntime } = {},
  ) =>
    createProvider(
      'nr',
      {
        newRelic: {
          accountId: 1234567,
          region: 'US',
          address: `${server.url}/${name}`,
          apiKeySecretRef: { name: 'newrelic', key: 'api-key' },
          timeout: extra.timeout ?? '2s',
        },
      },
      extra.runtime ?? runtime,
    ).measure(
      check({ provider: 'nr', query: NRQL, min: 0.9, max: undefined, ...(extra.value ? { value: extra.value } : {}) }),
      tickContext(extra.name ? { target: { name: extra.name, namespace: 'shop' } } : {}, secrets),
    );
  const where = (name: string) => `newRelic ${server.url}/${name}`;

  it('sends the NRQL as a GraphQL variable with the API key, and reads the single field', async () => {
    const m = await measure('count', { name: "x' OR true --" });
    const sent = server.requests.at(-1)!;
    expect(sent.method).toBe('POST');
    expect(sent.headers['api-key']).toBe('NRAK-TESTKEY0001');
    const body = JSON.parse(sent.body) as { query: string; variables: Record<string, unknown> };
    expect(body.variables).toEqual({
      accountId: 1234567,
      nrql: "SELECT count(*) FROM Transaction WHERE appName = 'x\\' OR true --' SINCE 5 minutes ago",
    });
    expect(body.query).toBe(
      'query Kubestead($accountId: Int!, $nrql: Nrql!) { actor { account(id: $accountId) { nrql(query: $nrql, timeout: 2) { results } } } }',
    );
    expect(body.query).not.toContain('Transaction');
    expect(m).toMatchObject({
      status: 'ok',
      value: 1000,
      raw: { count: 1000 },
      min: 0.9,
      max: null,
      shape: '1 row with fields count',
    });
  });

  it('reads a percentile field one level down', async () => {
    expect(await measure('percentile')).toMatchObject({
      status: 'ok',
      value: 0.412,
      raw: { 'percentile.duration.95': 0.412 },
    });
  });

  it('uses the value expression over the nrql object', async () => {
    expect(await measure('apdex', { value: 'results[0].score' })).toMatchObject({
      status: 'ok',
      value: 0.93,
      raw: 0.93,
    });
  });

  it.each([
    [
      'apdex',
      "the row has 5 numeric fields (score, s, t, f, count) where one was expected; set the check's value expression",
    ],
    ['nullField', 'field "average.duration" is null (no data), not a number'],
    ['empty', 'empty result: the query matched no rows'],
    ['nullResults', 'results: null (the NRQL query returned nothing)'],
    ['faceted', '2 rows returned where one was expected'],
    ['syntaxError', "NerdGraph error: NRDB query failed: Error parsing query: unexpected 'FORM' at line 1 position 18"],
    ['timeout', 'NerdGraph error: NRDB query timed out'],
    ['noAccount', 'no account 1234567 in the answer (is the key allowed to read it?)'],
    ['unauthorized', 'NerdGraph error: Unauthorized: invalid API key'],
    ['http-401', 'HTTP 401 Unauthorized: Unauthorized: invalid API key'],
  ])('%s → unavailable: %s', async (name, error) => {
    expect(await measure(name)).toMatchObject({
      status: 'unavailable',
      value: null,
      error: `${where(name)}: ${error}`,
    });
  });

  it('backs off for a minute after a TOO_MANY_REQUESTS error (3000 queries a minute)', async () => {
    const own = createMetricsRuntime(); // the rate-limit memory is per origin: keep it from the other tests
    const before = server.requests.length;
    const first = await measure('rateLimited', { runtime: own });
    const second = await measure('count', { runtime: own });
    await own.http.close();
    expect(first).toMatchObject({
      status: 'unavailable',
      error: `${where('rateLimited')}: NerdGraph error: Rate limit exceeded: 3000 queries per minute`,
    });
    expect(second.status).toBe('unavailable');
    expect(second.error).toMatch(/rate-limited: the backend asked not to be queried before .*; not sent$/);
    expect(server.requests.length - before).toBe(1);
  });

  it('aborts a slow answer at the timeout', async () => {
    expect(await measure('slow', { timeout: '1s' })).toMatchObject({
      status: 'unavailable',
      error: `${where('slow')}: timeout after 1s`,
    });
  });

  it('refuses an oversized body', async () => {
    const m = await measure('huge');
    expect(m.error?.startsWith(`${where('huge')}: response too large: over the 4 MiB cap (stopped reading at `)).toBe(
      true,
    );
  });

  it('uses the US or EU endpoint by region', () => {
    expect(newRelicAddress({ region: 'US' })).toBe('https://api.newrelic.com/graphql');
    expect(newRelicAddress({ region: 'EU' })).toBe('https://api.eu.newrelic.com/graphql');
  });
});
