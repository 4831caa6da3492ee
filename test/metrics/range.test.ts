import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rangeNrql } from '../../src/adapters/providers/newrelic.js';
import { createMetricsRuntime, createProvider, type MetricsRuntime } from '../../src/adapters/providers/provider.js';
import { rangeParts } from '../../src/adapters/providers/range.js';
import type { CheckSpec, ProviderSpec } from '../../src/pipeline/policy/schema.js';
import { staticSecretReader } from '../../src/adapters/secrets/reader.js';
import { check, json, startServer, TICK, tickContext, type RecordedRequest, type TestServer } from './helpers.js';

/**
 * Range requests of each backend, against local servers answering in the documented shapes:
 * Prometheus `POST /api/v1/query_range` (a matrix of `values: [[unix seconds, "value"], …]`),
 * Datadog `GET /api/v1/query?from&to` (the same endpoint as the live check, over the whole range),
 * and NerdGraph with a NRQL `TIMESERIES` (one row a bucket, with `beginTimeSeconds` and `endTimeSeconds`).
 * A backtest asks once per check for the whole range; each tick's measurement is what the live
 * tick would have read.
 */
const T0 = TICK.getTime();
const INTERVAL = 30_000;
const ticks = (n: number) => ({ startMs: T0, endMs: T0 + (n - 1) * INTERVAL, stepMs: INTERVAL });

/** The value the fake Prometheus gives at a time: 0.001 a tick, a gap at tick 3, NaN at tick 4, a breach from tick 6. */
function promValue(ms: number): string | undefined {
  const tick = Math.round((ms - T0) / INTERVAL);
  if (tick === 3) return undefined;
  if (tick === 4) return 'NaN';
  return tick >= 6 ? '0.05' : '0.001';
}

function matrix(form: URLSearchParams, value: (ms: number, query: string) => string | undefined) {
  const [start, end, step] = ['start', 'end', 'step'].map((k) => Number(form.get(k)) * 1000) as [
    number,
    number,
    number,
  ];
  const query = form.get('query') ?? '';
  const values: [number, string][] = [];
  for (let t = start; t <= end; t += step) {
    const v = value(t, query);
    if (v !== undefined) values.push([t / 1000, v]);
  }
  const series = query.includes('several')
    ? [
        { metric: { a: '1' }, values },
        { metric: { a: '2' }, values },
      ]
    : [];
  return {
    status: 'success',
    data: { resultType: 'matrix', result: series.length ? series : [{ metric: { app: 'checkout' }, values }] },
  };
}

/** Latency samples: primary 0.20 s ± a little; the canary 0.20 s, or 0.30 s when its query says `slow`. */
function latency(ms: number, query: string): string | undefined {
  const wobble = (((ms / 15_000) % 7) - 3) / 1000;
  if (query.includes('sparse') && Math.round(ms / 15_000) % 4 !== 0) return undefined;
  return String((query.includes('slow') ? 0.3 : 0.2) + wobble);
}

describe('range requests', () => {
  let server: TestServer;
  let runtime: MetricsRuntime;
  const requests = (path: string): RecordedRequest[] => server.requests.filter((r) => r.url.pathname.endsWith(path));

  beforeAll(async () => {
    server = await startServer((req, res) => {
      const form = new URLSearchParams(req.body);
      if (req.url.pathname === '/prom/api/v1/query_range') return json(res, 200, matrix(form, promValue));
      if (req.url.pathname === '/latency/api/v1/query_range') return json(res, 200, matrix(form, latency));
      if (req.url.pathname === '/dd/api/v1/query') return json(res, 200, datadogRange(req.url));
      if (req.url.pathname === '/nr') return json(res, 200, nerdGraphRange(JSON.parse(req.body) as NerdGraphBody));
      json(res, 404, { error: 'not found' });
    });
    runtime = createMetricsRuntime();
  });
  afterAll(async () => {
    await runtime.http.close();
    await server.close();
  });

  const provider = (spec: ProviderSpec) => createProvider('p', spec, runtime);
  const prom = (path: string) => provider({ prometheus: { address: `${server.url}/${path}`, timeout: '2s' } });

  it('Prometheus: one query_range for the whole range, each tick the instant answer of its time', async () => {
    const before = requests('/prom/api/v1/query_range').length;
    const history = await prom('prom').history(check({ query: 'errors', max: 0.01 }), tickContext(), ticks(8));
    const asked = requests('/prom/api/v1/query_range').slice(before);
    expect(asked).toHaveLength(1);
    expect(Object.fromEntries(new URLSearchParams(asked[0]!.body))).toMatchObject({
      query: 'errors',
      start: (T0 / 1000).toFixed(3),
      end: ((T0 + 7 * INTERVAL) / 1000).toFixed(3),
      step: '30',
    });
    const at = await Promise.all([0, 2, 3, 4, 6].map((i) => history.at(T0 + i * INTERVAL)));
    expect(at.map((m) => [m.status, m.value])).toEqual([
      ['ok', 0.001],
      ['ok', 0.001],
      ['unavailable', null],
      ['unavailable', null],
      ['ok', 0.05],
    ]);
    expect(at[0]!.observedAt).toBe(new Date(T0).toISOString());
    expect(at[2]!.error).toBe(`prometheus ${server.url}/prom: empty result: the query matched no series`);
    expect(at[3]!.error).toBe(`prometheus ${server.url}/prom: the sample is NaN (no data, or 0/0)`);
  });

  it('Prometheus: a range past 11,000 points a series is asked in parts, joined', async () => {
    const before = requests('/prom/api/v1/query_range').length;
    const history = await prom('prom').history(check({ query: 'errors' }), tickContext(), ticks(25_000));
    expect(requests('/prom/api/v1/query_range').length - before).toBe(3);
    expect((await history.at(T0 + 24_999 * INTERVAL)).value).toBe(0.05);
    expect((await history.at(T0 + 11_000 * INTERVAL)).value).toBe(0.05);
    expect(rangeParts(ticks(25_000), 11_000).map((p) => (p.endMs - p.startMs) / INTERVAL + 1)).toEqual([
      11_000, 11_000, 3_000,
    ]);
  });

  it('Datadog: one request over the whole range; a tick reads the last point of its interval', async () => {
    const before = requests('/dd/api/v1/query').length;
    const dd = provider({
      datadog: {
        site: 'datadoghq.com',
        address: `${server.url}/dd`,
        apiKeySecretRef: { name: 'dd', key: 'api' },
        appKeySecretRef: { name: 'dd', key: 'app' },
        timeout: '2s',
      },
    });
    const secrets = staticSecretReader({ 'dd/api': 'api-key-0001', 'dd/app': 'app-key-0002' });
    const history = await dd.history(check({ query: 'sum:errors{*}' }), tickContext({}, secrets), ticks(6));
    const asked = requests('/dd/api/v1/query').slice(before);
    expect(asked).toHaveLength(1);
    expect(asked[0]!.url.searchParams.get('from')).toBe(String((T0 - INTERVAL) / 1000));
    expect(asked[0]!.url.searchParams.get('to')).toBe(String((T0 + 5 * INTERVAL) / 1000));
    const values = await Promise.all([0, 1, 2, 5].map(async (i) => (await history.at(T0 + i * INTERVAL)).value));
    // points every 10 s, valued by their second; none from T0+30 s to T0+80 s
    expect(values).toEqual([0, 20, null, 150]);
    expect((await history.at(T0 + 2 * INTERVAL)).error).toMatch(/no data: the series has no points in the window$/);
  });

  it("New Relic: one TIMESERIES of sliding windows as long as the query's SINCE, ending at the ticks", async () => {
    const before = server.requests.filter((r) => r.url.pathname === '/nr').length;
    const nr = provider({
      newRelic: {
        accountId: 1234567,
        region: 'US',
        address: `${server.url}/nr`,
        apiKeySecretRef: { name: 'nr', key: 'key' },
        timeout: '2s',
      },
    });
    const secrets = staticSecretReader({ 'nr/key': 'NRAK-TESTKEY0001' });
    const nrql = 'SELECT percentage(count(*), WHERE error) AS errors FROM Transaction SINCE 2 minutes ago';
    const history = await nr.history(check({ query: nrql, max: 1 }), tickContext({}, secrets), ticks(4));
    const asked = server.requests.filter((r) => r.url.pathname === '/nr').slice(before);
    expect(asked).toHaveLength(1);
    expect((JSON.parse(asked[0]!.body) as NerdGraphBody).variables.nrql).toBe(
      `SELECT percentage(count(*), WHERE error) AS errors FROM Transaction SINCE ${T0 - 120_000} UNTIL ` +
        `${T0 + 3 * INTERVAL} TIMESERIES 120 seconds SLIDE BY 30 seconds`,
    );
    const values = await Promise.all([0, 1, 3].map(async (i) => (await history.at(T0 + i * INTERVAL)).value));
    expect(values).toEqual([0, 1, 3]);
  });

  it.each([
    [
      'SELECT count(*) FROM T SINCE 5 minutes ago',
      'SELECT count(*) FROM T SINCE 1795686900000 UNTIL 1795687290000 TIMESERIES 300 seconds SLIDE BY 30 seconds',
    ],
    [
      'SELECT count(*) FROM T',
      'SELECT count(*) FROM T SINCE 1795683600000 UNTIL 1795687290000 TIMESERIES 3600 seconds SLIDE BY 30 seconds',
    ],
    [
      'SELECT count(*) FROM T since 30 SECONDS ago',
      'SELECT count(*) FROM T SINCE 1795687170000 UNTIL 1795687290000 TIMESERIES 30 seconds',
    ],
  ])('NRQL over a range: %s', (nrql, expected) => {
    expect(rangeNrql(nrql, ticks(4))).toBe(expected);
  });

  it.each([
    ['SELECT count(*) FROM T SINCE 1 hour ago UNTIL 5 minutes ago', 'UNTIL'],
    ['SELECT count(*) FROM T SINCE yesterday', 'SINCE'],
    ['SELECT count(*) FROM T TIMESERIES', 'TIMESERIES'],
  ])('NRQL with a time clause of its own cannot be asked over a range: %s', (nrql, clause) => {
    expect(() => rangeNrql(nrql, ticks(4))).toThrow(`the NRQL has ${clause} of its own`);
  });
});

describe('a comparison check, measured', () => {
  let server: TestServer;
  let runtime: MetricsRuntime;
  beforeAll(async () => {
    server = await startServer((req, res) => json(res, 200, matrix(new URLSearchParams(req.body), latency)));
    runtime = createMetricsRuntime();
  });
  afterAll(async () => {
    await runtime.http.close();
    await server.close();
  });

  const compareCheck = (canary: string, extra: Partial<CheckSpec> = {}): CheckSpec => ({
    name: 'latency',
    provider: 'p',
    compare: { canary, primary: 'p90{track="primary"}', window: '10m', step: '15s' },
    direction: 'increase',
    ...extra,
  });
  const measure = (c: CheckSpec) =>
    createProvider('p', { prometheus: { address: server.url, timeout: '2s' } }, runtime).measure(c, tickContext());

  it('asks each side once over the window ending at the tick, and tests canary against primary', async () => {
    const before = server.requests.length;
    const m = await measure(compareCheck('p90{track="canary",speed="slow"}'));
    const asked = server.requests.slice(before).map((r) => Object.fromEntries(new URLSearchParams(r.body)));
    expect(asked.map((a) => a.query).sort()).toEqual(['p90{track="canary",speed="slow"}', 'p90{track="primary"}']);
    for (const a of asked)
      expect(a).toMatchObject({ start: ((T0 - 600_000) / 1000).toFixed(3), end: (T0 / 1000).toFixed(3), step: '15' });
    expect(m).toMatchObject({
      status: 'ok',
      provider: 'p',
      query: 'canary: p90{track="canary",speed="slow"}; primary: p90{track="primary"}',
      observedAt: TICK.toISOString(),
      shape: '41 canary and 41 primary samples',
    });
    expect(m.value).toBeCloseTo(0.1, 10);
    expect(m.comparison).toMatchObject({ direction: 'increase', method: 'asymptotic', u: 41 * 41 });
    expect(m.comparison!.sampleSizes).toEqual({ canary: 41, primary: 41 });
    expect(m.comparison!.samples.canary).toHaveLength(41);
    expect(m.comparison!.effectSize).toBeCloseTo(0.5, 1);
    expect(m.comparison!.pValue).toBeLessThan(1e-10);
  });

  it('like for like: no shift, a p-value near 1/2 for a one-sided test', async () => {
    const m = await measure(compareCheck('p90{track="canary"}'));
    expect(m.status).toBe('ok');
    expect(m.value).toBe(0);
    expect(m.comparison!.pValue).toBeGreaterThan(0.4);
  });

  it('fewer samples than minSamples is unavailable, never a pass', async () => {
    const m = await measure(compareCheck('p90{track="canary",sparse="1"}'));
    expect(m).toMatchObject({ status: 'unavailable', value: null });
    expect(m.error).toBe(`prometheus ${server.url}: canary: 11 samples in the 10m window, fewer than minSamples 20`);
  });

  it('several series on a side is unavailable, as for a threshold check', async () => {
    const m = await measure(compareCheck('several'));
    expect(m.error).toBe(
      `prometheus ${server.url}: canary: 2 series returned where one was expected: {a="1"}, {a="2"}`,
    );
  });
});

interface NerdGraphBody {
  variables: { nrql: string };
}

/** Datadog points every 10 s valued by their second of the range, with none from T0+30 s to T0+80 s. */
function datadogRange(url: URL) {
  const [from, to] = ['from', 'to'].map((k) => Number(url.searchParams.get(k)) * 1000) as [number, number];
  const pointlist: [number, number][] = [];
  for (let t = from; t <= to; t += 10_000) if (t - T0 < 25_000 || t - T0 > 85_000) pointlist.push([t, (t - T0) / 1000]);
  return {
    status: 'ok',
    res_type: 'time_series',
    series: [{ metric: 'errors', scope: '*', pointlist, aggr: 'sum', interval: 10 }],
  };
}

/** NerdGraph's answer to a TIMESERIES … SLIDE BY: one row a bucket, its value the bucket's number from 0. */
function nerdGraphRange(body: NerdGraphBody) {
  const m = /SINCE (\d+) UNTIL (\d+) TIMESERIES (\d+) seconds SLIDE BY (\d+) seconds/.exec(body.variables.nrql);
  const [since, until, width, slide] = (m?.slice(1) ?? []).map(Number) as [number, number, number, number];
  const results = [];
  for (let begin = since, i = 0; begin + width * 1000 <= until; begin += slide * 1000, i++)
    results.push({ beginTimeSeconds: begin / 1000, endTimeSeconds: begin / 1000 + width, errors: i });
  return { data: { actor: { account: { nrql: { results } } } } };
}
