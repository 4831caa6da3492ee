import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { datadogAddress } from '../../src/adapters/providers/datadog.js';
import { createMetricsRuntime, createProvider, type MetricsRuntime } from '../../src/adapters/providers/provider.js';
import { DATADOG_SITES } from '../../src/pipeline/policy/schema.js';
import { staticSecretReader } from '../../src/adapters/secrets/reader.js';
import { datadog } from './fixtures/datadog.js';
import { check, json, startServer, TICK, tickContext, type TestServer } from './helpers.js';

const answers: Record<string, [number, unknown, Record<string, string>?]> = {
  ok: [200, datadog.ok],
  trailingNulls: [200, datadog.trailingNulls],
  allNulls: [200, datadog.allNulls],
  noPoints: [200, datadog.noPoints],
  empty: [200, datadog.empty],
  several: [200, datadog.several],
  nanPoint: [200, datadog.nanPoint],
  statusError: [200, datadog.statusError],
  badRequest: [400, datadog.badRequest],
  forbidden: [403, datadog.forbidden],
  rateLimited: [429, datadog.rateLimited, datadog.rateLimitHeaders],
  unavailable: [503, datadog.unavailable],
};

describe('Datadog (a local server answering as the documented API)', () => {
  let server: TestServer;
  let runtime: MetricsRuntime;
  beforeAll(async () => {
    server = await startServer((req, res) => {
      const name = req.url.pathname.split('/')[1] ?? '';
      if (name === 'slow') return void setTimeout(() => json(res, 200, datadog.ok), 3000);
      if (name === 'huge') return json(res, 200, { ...datadog.ok, padding: 'x'.repeat(5 * 1024 * 1024) });
      const [status, body, headers] = answers[name] ?? [404, { errors: ['Not found'] }];
      json(res, status, body, headers);
    });
  });
  beforeAll(() => {
    runtime = createMetricsRuntime();
  });
  afterAll(async () => {
    await runtime.http.close();
    await server.close();
  });

  const secrets = staticSecretReader({ 'datadog/api-key': 'dd-api-0001', 'datadog/app-key': 'dd-app-0002' });
  const measure = (
    name: string,
    extra: { value?: string; time?: Date; timeout?: string; runtime?: MetricsRuntime } = {},
  ) =>
    createProvider(
      'dd',
      {
        datadog: {
          site: 'datadoghq.com',
          address: `${server.url}/${name}`,
          apiKeySecretRef: { name: 'datadog', key: 'api-key' },
          appKeySecretRef: { name: 'datadog', key: 'app-key' },
          timeout: extra.timeout ?? '2s',
        },
      },
      extra.runtime ?? runtime,
    ).measure(
      check({
        provider: 'dd',
        query: 'sum:trace.http.request.errors{service:{{ target.name }}}.as_count()',
        ...(extra.value ? { value: extra.value } : {}),
      }),
      tickContext({ time: extra.time ?? TICK }, secrets),
    );
  const where = (name: string) => `datadog ${server.url}/${name}`;

  it('queries one interval ending at the tick, with both keys, and reads the last point', async () => {
    const m = await measure('ok');
    const sent = server.requests.at(-1)!;
    expect(sent.method).toBe('GET');
    expect(sent.url.pathname).toBe('/ok/api/v1/query');
    expect(Object.fromEntries(sent.url.searchParams)).toEqual({
      from: String(TICK.getTime() / 1000 - 30),
      to: String(TICK.getTime() / 1000),
      query: 'sum:trace.http.request.errors{service:checkout}.as_count()',
    });
    expect(sent.headers['dd-api-key']).toBe('dd-api-0001');
    expect(sent.headers['dd-application-key']).toBe('dd-app-0002');
    expect(m).toMatchObject({
      status: 'ok',
      value: 0.002,
      provider: 'dd',
      observedAt: new Date(TICK.getTime() - 10_000).toISOString(),
      shape: 'time_series with 1 series, 3 points',
    });
    expect(m.raw).toEqual([TICK.getTime() - 10_000, 0.002]);
  });

  it('takes the last non-null point, never a null as 0', async () => {
    expect(await measure('trailingNulls')).toMatchObject({
      status: 'ok',
      value: 0.003,
      shape: 'time_series with 1 series, 3 points (1 null)',
    });
  });

  it('a value expression that lands on a null is unavailable', async () => {
    expect(await measure('trailingNulls', { value: 'series[0].pointlist[-1][1]' })).toMatchObject({
      status: 'unavailable',
      error: `${where('trailingNulls')}: value of "series[0].pointlist[-1][1]" is null (no data), not a number`,
    });
  });

  it.each([
    ['allNulls', 'no data: all 2 points of the series are null'],
    ['nanPoint', 'no data: all 1 points of the series are null'],
    ['noPoints', 'no data: the series has no points in the window'],
    ['empty', 'empty result: the query matched no series'],
    [
      'several',
      '3 series returned where one was expected: service:checkout,version:v1, service:checkout,version:v2, service:checkout,version:v3',
    ],
    ['statusError', "Datadog error: Error parsing query: unable to parse sum:trace{: Rule 'scope_expr' didn't match"],
    [
      'badRequest',
      "HTTP 400 Bad Request: Error parsing query: unable to parse sum:trace{: Rule 'scope_expr' didn't match",
    ],
    ['forbidden', 'HTTP 403 Forbidden: Forbidden; check the API and application keys, their scopes and the site'],
    ['unavailable', 'HTTP 503 Service Unavailable after 2 attempts: Service Unavailable'],
  ])('%s → unavailable: %s', async (name, error) => {
    expect(await measure(name)).toMatchObject({
      status: 'unavailable',
      value: null,
      error: `${where(name)}: ${error}`,
    });
  });

  it('honours the rate-limit headers of a 429: no retry beyond the budget, no request before the reset', async () => {
    const before = server.requests.length;
    const own = createMetricsRuntime(); // the rate-limit memory is per origin: keep it from the other tests
    const first = await measure('rateLimited', { runtime: own });
    expect(first.error).toMatch(
      new RegExp(
        `^${where('rateLimited').replace(/[.]/g, '\\.')}: HTTP 429 Too Many Requests after 1 attempt \\(Retry-After 1200s is beyond the [\\d.]+s left of the budget\\): Rate limit of 1600 requests in 3600 seconds reached\\. Please try again later\\.; rate limit reached$`,
      ),
    );
    const second = await measure('ok', { time: new Date(TICK.getTime() + 30_000), runtime: own });
    await own.http.close();
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
    expect(m.status).toBe('unavailable');
    expect(m.error?.startsWith(`${where('huge')}: response too large: over the 4 MiB cap (stopped reading at `)).toBe(
      true,
    );
  });

  it.each([
    ['datadoghq.com', 'https://api.datadoghq.com'],
    ['datadoghq.eu', 'https://api.datadoghq.eu'],
    ['us3.datadoghq.com', 'https://api.us3.datadoghq.com'],
    ['us5.datadoghq.com', 'https://api.us5.datadoghq.com'],
    ['ap1.datadoghq.com', 'https://api.ap1.datadoghq.com'],
    ['ddog-gov.com', 'https://api.ddog-gov.com'],
  ] as const)('site %s is served by %s', (site, address) => {
    expect(DATADOG_SITES).toContain(site);
    expect(datadogAddress({ site })).toBe(address);
  });
});
