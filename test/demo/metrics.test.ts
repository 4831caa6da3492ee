import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../support/manual-clock.js';
import { systemClock } from '../../src/lib/clock/clock.js';
import { HEALTHY, ShopTraffic } from '../../src/tools/demo/exporter.js';
import { startShopExporter } from '../../src/tools/demo/exporter-server.js';
import type { LocalServer } from '../../src/tools/demo/http.js';
import { demoQueries, histogramQuantile, startBuiltInPrometheus } from '../../src/tools/demo/metrics-source.js';
import { prometheusOnPath, startMetricsSource, type MetricsSource } from '../../src/tools/demo/prometheus.js';
import { loadPolicyFile } from '../../src/pipeline/policy/load.js';
import type { RolloutPolicy } from '../../src/pipeline/policy/schema.js';
import { ROOT } from '../helpers.js';
import { PROMETHEUS_BIN, prometheusTestsEnabled } from '../metrics/prometheus-harness.js';
import { waitFor } from '../support/wait.js';

const run = promisify(execFile);
const POLICY_FILE = resolve(ROOT, 'fixtures/policies/shop-demo.yaml');

async function demoPolicy(): Promise<RolloutPolicy> {
  const { policies, errors } = await loadPolicyFile(POLICY_FILE);
  expect(errors).toEqual([]);
  return policies[0]!.policy;
}

/** `kubestead query` (the real CLI and metrics provider) against a source, at a time. */
async function query(check: string, url: string, timeSeconds: number): Promise<{ code: number; stdout: string }> {
  const args = [
    resolve(ROOT, 'bin/kubestead'),
    'query',
    POLICY_FILE,
    check,
    '--provider-url',
    url,
    '--time',
    String(timeSeconds),
    '--json',
  ];
  return run(process.execPath, args, { cwd: ROOT }).then(
    (r) => ({ code: 0, stdout: r.stdout }),
    (e: { code: number; stdout: string }) => ({ code: e.code, stdout: e.stdout }),
  );
}

describe('histogramQuantile (as Prometheus interpolates)', () => {
  it.each([
    [[0, 0, 100, 100, 100, 100, 100, 100], 0.99, 0.05 + 0.05 * 0.99],
    [[0, 0, 0, 0, 0, 50, 100, 100], 0.25, 0.75],
    [[0, 0, 0, 0, 0, 50, 100, 100], 0.5, 1],
    [[0, 0, 0, 0, 0, 0, 0, 100], 0.99, 2.5],
  ])('buckets %j, q %s → %s', (buckets, q, expected) => {
    expect(histogramQuantile(q, buckets)).toBeCloseTo(expected, 9);
  });

  it('is NaN without observations', () => {
    expect(histogramQuantile(0.99, [0, 0, 0, 0, 0, 0, 0, 0])).toBeNaN();
  });
});

describe('the shop traffic and its exporter', () => {
  const clock = new ManualClock();
  const traffic = new ShopTraffic(clock);
  let exporter: LocalServer;
  beforeAll(async () => {
    exporter = await startShopExporter(traffic);
  });
  afterAll(() => exporter?.close());

  it("counts the exact integral of each track's behaviour", async () => {
    const t0 = clock.now();
    await clock.advance(10_000);
    traffic.set('canary', { errorRate: 0.2, latencySeconds: 0.8 });
    await clock.advance(10_000);
    const first = traffic.counts('canary', t0, t0 + 10_000);
    expect(first.requests).toBeCloseTo(HEALTHY.requestsPerSecond * 10);
    expect(first.errors).toBeCloseTo(HEALTHY.requestsPerSecond * 10 * HEALTHY.errorRate);
    const second = traffic.counts('canary', t0 + 10_000, t0 + 20_000);
    expect(second.errors / second.requests).toBeCloseTo(0.2);
    expect(second.buckets.slice(0, 5)).toEqual([0, 0, 0, 0, 0]);
    expect(second.buckets[5]).toBeCloseTo(500);
    expect(traffic.counts('primary', t0, t0 + 20_000).errors).toBeCloseTo(2 * first.errors);
  });

  it('serves the counters as Prometheus text, labelled by track', async () => {
    const text = await (await fetch(`${exporter.url}/metrics`)).text();
    expect(text).toContain('# TYPE http_requests_total counter');
    expect(text).toContain('http_requests_total{app="shop",track="canary",code="500"} 101');
    expect(text).toContain('http_requests_total{app="shop",track="primary",code="200"} 998');
    expect(text).toContain('http_request_duration_seconds_bucket{app="shop",track="canary",le="1"} 1000');
    expect(text).toContain('http_request_duration_seconds_bucket{app="shop",track="canary",le="0.5"} 500');
    expect(text).toContain('http_request_duration_seconds_count{app="shop",track="primary"} 1000');
    expect(text).toContain('http_requests_total{app="shop",track="canary",code="200"} 899');
  });

  it('changes a track through PUT /tracks/{track}, and refuses bad input with one clear message', async () => {
    const put = (track: string, body: string) =>
      fetch(`${exporter.url}/tracks/${track}`, { method: 'PUT', body }).then(async (r) => ({
        status: r.status,
        body: (await r.json()) as Record<string, unknown>,
      }));
    expect(await put('canary', '{"errorRate":0}')).toEqual({
      status: 200,
      body: { requestsPerSecond: 50, errorRate: 0, latencySeconds: 0.8 },
    });
    expect(traffic.behaviour('canary').errorRate).toBe(0);
    expect(await put('canary', '{"errorRate":2}')).toEqual({
      status: 400,
      body: { error: 'errorRate must be a number from 0 to 1, got 2' },
    });
    expect(await put('canary', '{"errors":1}')).toEqual({
      status: 400,
      body: { error: 'unknown field "errors"; the fields are requestsPerSecond, errorRate, latencySeconds' },
    });
    expect(await put('canary', 'nope')).toEqual({ status: 400, body: { error: 'the body is not JSON' } });
    expect((await put('blue', '{}')).status).toBe(404);
    expect(await (await fetch(`${exporter.url}/tracks`)).json()).toMatchObject({ primary: HEALTHY });
  });
});

describe('the built-in metrics source', () => {
  const clock = new ManualClock();
  const traffic = new ShopTraffic(clock);
  let source: LocalServer;
  let policy: RolloutPolicy;
  beforeAll(async () => {
    policy = await demoPolicy();
    source = await startBuiltInPrometheus(policy, traffic, clock);
    await clock.advance(20_000);
  });
  afterAll(() => source?.close());

  it("knows exactly the demo policy's queries, as the provider renders them", () => {
    expect(demoQueries(policy).map((q) => q.text)).toEqual([
      'sum(rate(http_requests_total{app="shop",track="canary",code=~"5.."}[10s])) / sum(rate(http_requests_total{app="shop",track="canary"}[10s]))',
      'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{app="shop",track="canary"}[10s])))',
    ]);
    const other = { ...policy, spec: { ...policy.spec, checks: [{ ...policy.spec.checks[0]!, query: 'up' }] } };
    expect(() => demoQueries(other)).toThrow('the built-in metrics source cannot answer check "error-rate": up');
  });

  it('answers `kubestead query` (the real provider) with the healthy values, then the breach the demo drives', async () => {
    const healthy = JSON.parse((await query('error-rate', source.url, clock.now() / 1000)).stdout) as {
      status: string;
      value: number;
    };
    expect(healthy).toMatchObject({ status: 'ok', value: HEALTHY.errorRate });
    const latency = await query('latency-p99', source.url, clock.now() / 1000);
    expect(latency.code).toBe(0);
    expect(JSON.parse(latency.stdout).value).toBeCloseTo(0.025 + 0.025 * 0.99, 9);

    traffic.set('canary', { errorRate: 0.3 });
    await clock.advance(5_000);
    const breach = await query('error-rate', source.url, clock.now() / 1000);
    expect(breach.code).toBe(1);
    expect(JSON.parse(breach.stdout).value).toBeCloseTo((HEALTHY.errorRate + 0.3) / 2, 9);
  });

  it('refuses other queries as Prometheus does (400 bad_data)', async () => {
    const res = await fetch(`${source.url}/api/v1/query?query=up`);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      status: 'error',
      errorType: 'bad_data',
      error: "the built-in demo metrics source answers only the demo policy's queries; got: up",
    });
  });
});

describe('choosing the metrics source', () => {
  it('finds prometheus on PATH, or says the built-in one is used', async () => {
    expect(prometheusOnPath('/nonexistent')).toBeUndefined();
    const traffic = new ShopTraffic(systemClock);
    const source = await startMetricsSource({
      policy: await demoPolicy(),
      traffic,
      exporterUrl: 'http://127.0.0.1:1',
      clock: systemClock,
      prometheus: prometheusOnPath('/nonexistent'),
    });
    try {
      expect(source.kind).toBe('built-in');
      expect(source.description).toBe(
        `metrics: no prometheus on PATH, so the built-in source at ${source.url} answers the demo policy's queries`,
      );
    } finally {
      await source.close();
    }
  });
});

describe.skipIf(!prometheusTestsEnabled())('the real Prometheus and the built-in source agree', () => {
  const traffic = new ShopTraffic(systemClock);
  let exporter: LocalServer;
  let builtIn: LocalServer;
  let real: MetricsSource;
  beforeAll(async () => {
    exporter = await startShopExporter(traffic);
    builtIn = await startBuiltInPrometheus(await demoPolicy(), traffic, systemClock);
    real = await startMetricsSource({
      policy: await demoPolicy(),
      traffic,
      exporterUrl: exporter.url,
      clock: systemClock,
      prometheus: PROMETHEUS_BIN,
    });
  }, 60_000);
  afterAll(async () => {
    await real?.close();
    await builtIn?.close();
    await exporter?.close();
  });

  it('on both checks of the demo policy, at the same time', async () => {
    expect(real.kind).toBe('prometheus');
    traffic.set('canary', { errorRate: 0.1, latencySeconds: 0.3 });
    // Wait until both windows hold only the new behaviour: each source's error ratio reads 0.1.
    const [errorQuery, latencyQuery] = demoQueries(await demoPolicy());
    const valueOf = async (url: string, query: string, time: number) => {
      const res = await fetch(`${url}/api/v1/query?${new URLSearchParams({ query, time: String(time) }).toString()}`);
      const body = (await res.json()) as { data?: { result?: Array<{ value: [number, string] }> } };
      return Number(body.data?.result?.[0]?.value[1]);
    };
    const at = await waitFor(
      async () => {
        const now = Math.floor(Date.now() / 1000) - 1;
        const [fromReal, exact] = [
          await valueOf(real.url, errorQuery!.text, now),
          await valueOf(builtIn.url, errorQuery!.text, now),
        ];
        return Math.abs(exact - 0.1) < 1e-9 && Math.abs(fromReal - 0.1) < 0.002 ? now : undefined;
      },
      30_000,
      'both sources to see a full window of the new behaviour',
    );
    for (const [query, expected] of [
      [errorQuery!.text, 0.1],
      [latencyQuery!.text, 0.25 + 0.25 * 0.99],
    ] as const) {
      const fromReal = await valueOf(real.url, query, at);
      const fromBuiltIn = await valueOf(builtIn.url, query, at);
      expect(fromBuiltIn, query).toBeCloseTo(expected, 6);
      expect(
        Math.abs(fromReal - fromBuiltIn) / expected,
        `${query}: real ${fromReal}, built-in ${fromBuiltIn}`,
      ).toBeLessThan(0.05);
    }
  }, 45_000);
});
