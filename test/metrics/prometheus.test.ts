import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { queryCommand } from '../../src/tools/cli/query.js';
import { createMetricsRuntime, createProvider, type MetricsRuntime } from '../../src/adapters/providers/provider.js';
import type { MetricProvider } from '../../src/adapters/providers/types.js';
import { check, startServer, tickContext } from './helpers.js';
import { prometheusTestsEnabled, startPrometheus, type PrometheusHarness } from './prometheus-harness.js';

const RATIO =
  'sum(rate(http_requests_total{app="{{ target.name }}",track="canary",code=~"5.."}[5s])) / sum(rate(http_requests_total{app="{{ target.name }}",track="canary"}[5s]))';

describe.skipIf(!prometheusTestsEnabled())('a real Prometheus', () => {
  let prom: PrometheusHarness;
  let runtime: MetricsRuntime;
  let provider: MetricProvider;
  let where: string;

  beforeAll(async () => {
    prom = await startPrometheus();
    runtime = createMetricsRuntime();
    provider = createProvider('prom', { prometheus: { address: prom.url, timeout: '5s' } }, runtime);
    where = `prometheus ${prom.url}`;
  });
  afterAll(async () => {
    await runtime?.http.close();
    await prom?.stop();
  });

  const measure = (query: string, extra: Parameters<typeof check>[0] = {}) =>
    provider.measure(check({ provider: 'prom', query, ...extra }), tickContext({ time: new Date() }));

  it('measures a 5xx ratio: the rendered query, the value, when, and how long', async () => {
    const time = new Date();
    const m = await provider.measure(check({ provider: 'prom', query: RATIO }), tickContext({ time }));
    expect(m).toMatchObject({ status: 'ok', provider: 'prom', min: null, max: 0.01, shape: 'vector with 1 series' });
    expect(m.value).toBeCloseTo(1 / 11, 9);
    expect(m.query).toBe(RATIO.replaceAll('{{ target.name }}', 'checkout'));
    expect(m.observedAt).toBe(time.toISOString());
    expect(typeof m.raw).toBe('string');
    expect(m.latencyMs).toBeGreaterThan(0);
    expect(m.error).toBeUndefined();
  });

  it('measures a histogram quantile', async () => {
    const m = await measure(
      'histogram_quantile(0.9, sum by (le) (rate(http_request_duration_seconds_bucket{track="canary"}[5s])))',
    );
    expect(m.status).toBe('ok');
    expect(m.value).toBeCloseTo(0.5, 6);
  });

  it('reads a scalar result', async () => {
    expect(await measure('scalar(sum(idle_total)) + 2')).toMatchObject({ status: 'ok', value: 2, shape: 'scalar' });
  });

  it('takes a value expression over the data object', async () => {
    const m = await measure('sum by (track) (rate(http_requests_total{code="200"}[5s]))', {
      value: 'result[metric.track="stable"].value[1]',
    });
    expect(m.status).toBe('ok');
    expect(m.value).toBeGreaterThan(0);
  });

  it.each([
    [
      'a query with no data',
      'sum(rate(http_requests_total{app="nothing-here"}[5s]))',
      'empty result: the query matched no series',
    ],
    ['0/0', 'sum(rate(idle_total[5s])) / sum(rate(idle_total[5s]))', 'the sample is NaN (no data, or 0/0)'],
    [
      'a division by zero',
      'sum(rate(http_requests_total{track="canary"}[5s])) / sum(rate(idle_total[5s]))',
      'the sample is +Inf (a division by zero?)',
    ],
    [
      'a negative division by zero',
      '-sum(rate(http_requests_total{track="canary"}[5s])) / sum(rate(idle_total[5s]))',
      'the sample is -Inf (a division by zero?)',
    ],
    [
      'a range vector',
      'http_requests_total{track="canary",code="200"}[5s]',
      'a range vector (matrix with 1 series) was returned where a scalar or one-series instant vector was expected',
    ],
    ['a string', '"hello"', 'a string ("hello") was returned where a number was expected'],
  ])('%s is unavailable, never a pass', async (_what, query, error) => {
    const m = await measure(query);
    expect(m).toMatchObject({ status: 'unavailable', value: null, error: `${where}: ${error}` });
  });

  it('several series are ambiguous, whatever their order', async () => {
    const m = await measure('sum by (track) (rate(http_requests_total[5s]))');
    expect(m.status).toBe('unavailable');
    expect([
      `${where}: 2 series returned where one was expected: {track="canary"}, {track="stable"}`,
      `${where}: 2 series returned where one was expected: {track="stable"}, {track="canary"}`,
    ]).toContain(m.error);
  });

  it('reports a syntax error with the parser message', async () => {
    const m = await measure('sum(rate(http_requests_total[5s])');
    expect(m.status).toBe('unavailable');
    expect(m.error).toMatch(
      new RegExp(`^${where.replace(/[.]/g, '\\.')}: HTTP 400 Bad Request: error \\(bad_data\\): .*parse error`),
    );
  });

  it('renders an injection attempt as one escaped literal: no vector(1) pass', async () => {
    const ctx = tickContext({ time: new Date(), target: { name: 'x"} or vector(1) #', namespace: 'shop' } });
    const m = await provider.measure(
      check({ provider: 'prom', query: 'sum(rate(http_requests_total{app="{{ target.name }}"}[5s]))' }),
      ctx,
    );
    expect(m.query).toBe('sum(rate(http_requests_total{app="x\\"} or vector(1) #"}[5s]))');
    expect(m).toMatchObject({ status: 'unavailable', error: `${where}: empty result: the query matched no series` });
  });

  it('gives up on a hung endpoint at the provider timeout', async () => {
    const hung = await startServer(() => undefined);
    try {
      const slow = createProvider('slow', { prometheus: { address: hung.url, timeout: '1s' } }, runtime);
      const m = await slow.measure(check({ provider: 'slow', query: 'up' }), tickContext({ time: new Date() }));
      expect(m).toMatchObject({ status: 'unavailable', error: `prometheus ${hung.url}: timeout after 1s` });
    } finally {
      await hung.close();
    }
  });

  it('kubestead query runs a check of a policy file against it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kubestead-query-'));
    const file = join(dir, 'policy.yaml');
    await writeFile(
      file,
      `apiVersion: kubestead.io/v1alpha1
kind: RolloutPolicy
metadata: {name: checkout, namespace: shop}
spec:
  targetRef: {kind: Deployment, name: checkout}
  steps: [{weight: 10}]
  providers:
    prom: {prometheus: {address: "http://prometheus.invalid:9090"}}
  checks:
    - name: error-rate
      provider: prom
      query: '${RATIO}'
      max: 0.01
    - name: p90
      provider: prom
      query: histogram_quantile(0.9, sum by (le) (rate(http_request_duration_seconds_bucket{app="{{ target.name }}",track="canary"}[5s])))
      max: 1
`,
    );
    const out: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      out.push(String(chunk));
      return true;
    });
    try {
      const failing = await queryCommand.run([file, 'error-rate', '--provider-url', prom.url]);
      const passing = await queryCommand.run([
        file,
        'p90',
        '--provider-url',
        prom.url,
        '--time',
        String(Date.now() / 1000),
      ]);
      expect(failing).toBe(1);
      expect(passing).toBe(0);
    } finally {
      spy.mockRestore();
      await rm(dir, { recursive: true, force: true });
    }
    const [first, second] = out;
    expect(first).toContain(`query:    ${RATIO.replaceAll('{{ target.name }}', 'checkout')}`);
    expect(first).toContain('answer:   vector with 1 series');
    expect(first).toMatch(/value: {4}0\.0909090909\d* \(raw "0\.0909/);
    expect(first).toContain('bounds:   max 0.01');
    expect(first).toMatch(/result: {3}FAIL: error-rate = 0\.0909\d* is above max 0\.01/);
    expect(second).toMatch(/value: {4}0\.5/);
    expect(second).toContain('result:   PASS');
  });

  it('when Prometheus is stopped: connection refused, after the retry, as unavailable', async () => {
    await prom.stopPrometheus();
    const port = new URL(prom.url).port;
    // A runtime of its own: the shared one caches RATIO's answer for its 30 s evaluation window, which
    // an earlier test may have measured in (then this would read the cache, not the stopped server).
    const fresh = createMetricsRuntime();
    try {
      const stopped = createProvider('prom', { prometheus: { address: prom.url, timeout: '5s' } }, fresh);
      const m = await stopped.measure(check({ provider: 'prom', query: RATIO }), tickContext({ time: new Date() }));
      expect(m).toMatchObject({
        status: 'unavailable',
        value: null,
        error: `${where}: network error: connect ECONNREFUSED 127.0.0.1:${port} after 2 attempts`,
      });
    } finally {
      await fresh.http.close();
    }
  });
});
