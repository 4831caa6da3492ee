import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetricsRuntime } from '../../src/adapters/providers/provider.js';
import { staticSecretReader } from '../../src/adapters/secrets/reader.js';
import { loadPolicyFile } from '../../src/pipeline/policy/load.js';
import type { RolloutPolicy } from '../../src/pipeline/policy/schema.js';
import { backtest, type Backtest } from '../../src/tools/backtest/simulate.js';
import { kubestead } from '../cli/run-cli.js';
import { startServer, type TestServer } from '../metrics/helpers.js';
import { prometheusTestsEnabled, servePrometheusData, type RecordedPrometheus } from '../metrics/prometheus-harness.js';

/**
 * `kubestead backtest` against the real Prometheus serving a recorded past: the test writes a
 * timeline as OpenMetrics, `promtool tsdb create-blocks-from openmetrics` turns it into blocks, and
 * /usr/bin/prometheus serves them (no scraping). Three canaries share it, told apart by `app`:
 * `clean` (never an error), `breach` (errors from minute 12 on) and `gap` (no data from minute 7 to 10).
 */
const T0 = Date.parse('2026-11-02T10:00:00Z');
const MIN = 60_000;
const SCRAPE = 15_000;
const BREACH_AT = T0 + 12 * MIN;
const GAP: [number, number] = [T0 + 7 * MIN, T0 + 10 * MIN];
const INTERVAL = 30_000;
const RANGE = MIN; // the check's [1m]

function series(app: string, code: string, perScrape: (t: number) => number): string[] {
  const lines: string[] = [];
  let total = 0;
  for (let t = T0 - 10 * MIN; t <= T0 + 30 * MIN; t += SCRAPE) {
    total += perScrape(t);
    if (app === 'gap' && t > GAP[0] && t < GAP[1]) continue;
    lines.push(`http_requests_total{app="${app}",track="canary",code="${code}"} ${total} ${t / 1000}`);
  }
  return lines;
}

function timeline(): string {
  const lines = ['# TYPE http_requests counter'];
  for (const app of ['clean', 'breach', 'gap']) {
    lines.push(...series(app, '200', () => 10));
    lines.push(...series(app, '500', (t) => (app === 'breach' && t > BREACH_AT ? 5 : 0)));
  }
  return `${lines.join('\n')}\n# EOF\n`;
}

const policyYaml = (app: string, address: string, extra = '') => `apiVersion: kubestead.io/v1alpha1
kind: RolloutPolicy
metadata: {name: checkout, namespace: shop}
spec:
  targetRef: {kind: Deployment, name: ${app}}
  interval: 30s
  steps:
    - {weight: 10, soak: 5m}
    - {weight: 50, soak: 10m}
  providers:
    prom: {prometheus: {address: "${address}"}}
  checks:
    - name: error-rate
      provider: prom
      query: 'sum(rate(http_requests_total{app="{{ target.name }}",track="canary",code="500"}[1m])) / sum(rate(http_requests_total{app="{{ target.name }}",track="canary"}[1m]))'
      max: 0.05
${extra}`;

const at = (ms: number) => new Date(ms).toISOString();

describe.runIf(prometheusTestsEnabled())('kubestead backtest on the real Prometheus with recorded data', () => {
  let prometheus: RecordedPrometheus;
  /** A recording proxy in front of Prometheus: how many range requests a backtest makes. */
  let proxy: TestServer;
  let dir: string;

  beforeAll(async () => {
    prometheus = await servePrometheusData(timeline());
    proxy = await startServer(async (req, res) => {
      const answer = await fetch(`${prometheus.url}${req.url.pathname}${req.url.search}`, {
        method: req.method,
        headers: { 'content-type': String(req.headers['content-type'] ?? 'text/plain') },
        ...(req.method === 'POST' ? { body: req.body } : {}),
      });
      res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
      res.end(await answer.text());
    });
    dir = await mkdtemp(join(tmpdir(), 'kubestead-backtest-'));
  });
  afterAll(async () => {
    await proxy?.close();
    await prometheus?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function policyOf(app: string, extra = ''): Promise<RolloutPolicy> {
    const file = join(dir, `${app}.yaml`);
    await writeFile(file, policyYaml(app, proxy.url, extra));
    const { policies, errors } = await loadPolicyFile(file);
    expect(errors).toEqual([]);
    return policies[0]!.policy;
  }

  async function run(app: string, extra = ''): Promise<Backtest> {
    const metrics = createMetricsRuntime();
    const before = proxy.requests.length;
    try {
      const policy = await policyOf(app, extra);
      const result = await backtest({
        policy,
        startMs: T0,
        fromMs: T0,
        endMs: T0 + 25 * MIN,
        secrets: staticSecretReader({}),
        metrics,
      });
      // batched: one query_range for the whole window, never one request per tick
      const asked = proxy.requests.slice(before).map((r) => r.url.pathname);
      expect(asked).toEqual(['/api/v1/query_range']);
      return result;
    } finally {
      await metrics.http.close();
    }
  }

  it('a clean canary advances when step 1 has soaked 5m and promotes when step 2 has soaked 10m', async () => {
    const result = await run('clean');
    expect(result.outcome).toBe('promoted');
    expect(result.ticks).toHaveLength(31);
    expect(result.ticks.every((t, i) => Date.parse(t.time) === T0 + i * INTERVAL)).toBe(true);
    const moves = result.ticks.filter((t) => t.action !== 'hold');
    expect(moves.map((t) => [t.time, t.action, t.step, t.weight])).toEqual([
      [at(T0 + 5 * MIN), 'advance', 0, 10],
      [at(T0 + 15 * MIN), 'promote', 1, 50],
    ]);
    expect(result.ticks[3]!.checks['error-rate']).toEqual({ status: 'ok', value: 0 });
  });

  it('a breach at minute 12 rolls back within one interval plus the query range of it, on the breach', async () => {
    const result = await run('breach');
    expect(result.outcome).toBe('rolledBack');
    const last = result.ticks.at(-1)!;
    expect(last.action).toBe('rollback');
    expect(Date.parse(last.time)).toBeGreaterThan(BREACH_AT);
    expect(Date.parse(last.time)).toBeLessThanOrEqual(BREACH_AT + INTERVAL + RANGE);
    expect(last.reasons[0]).toMatchObject({ rule: 'check-breach', check: 'error-rate' });
    expect(last.checks['error-rate']!.value).toBeGreaterThan(0.05);
    expect(result.ticks.slice(0, -1).every((t) => t.action === 'hold' || t.action === 'advance')).toBe(true);
    expect(result.ticks.slice(0, -1).every((t) => t.checks['error-rate']!.value === 0)).toBe(true);
  });

  it('a gap in the data is unavailable, as live: with onMetricUnavailable pause, the soak clock stops meanwhile', async () => {
    const result = await run('gap', '  onMetricUnavailable: pause\n');
    const unavailable = result.ticks.filter((t) => t.checks['error-rate']!.status === 'unavailable');
    expect(unavailable.length).toBeGreaterThan(0);
    for (const t of unavailable) {
      expect(Date.parse(t.time)).toBeGreaterThan(GAP[0]);
      expect(Date.parse(t.time)).toBeLessThanOrEqual(GAP[1]);
      expect(t.action).toBe('pause');
      expect(t.checks['error-rate']!.value).toBeNull();
    }
    expect(result.outcome).toBe('promoted');
    // promoted later than the clean canary by the time paused
    const promotedAt = Date.parse(result.ticks.at(-1)!.time);
    expect(promotedAt).toBeGreaterThanOrEqual(T0 + 15 * MIN + (unavailable.length - 1) * INTERVAL);
  });

  it('the CLI prints the timeline, --json the documented shape, and exits 1 on a rollback', async () => {
    const file = join(dir, 'cli-breach.yaml');
    await writeFile(file, policyYaml('breach', 'http://prometheus.invalid:9090'));
    const window = ['--from', at(T0), '--to', String((T0 + 25 * MIN) / 1000), '--provider-url', prometheus.url];
    const text = await kubestead(['backtest', file, ...window]);
    expect(text.stderr).toBe('');
    expect(text.code).toBe(1);
    expect(text.stdout).toContain(`${at(T0 + 5 * MIN)}  step 1/2  10%  advance`);
    expect(text.stdout).toMatch(/rolled back at \S+ \(step 2\/2\): error-rate = 0\.\d+ is above max 0\.05/);
    const json = await kubestead(['backtest', file, ...window, '--json']);
    expect(json.code).toBe(1);
    const parsed = JSON.parse(json.stdout) as Backtest;
    expect(parsed.outcome).toBe('rolledBack');
    expect(Object.keys(parsed.ticks[0]!).sort()).toEqual(['action', 'checks', 'reasons', 'step', 'time', 'weight']);
    const svg = await kubestead(['backtest', file, ...window, '--format', 'svg']);
    expect(svg.stdout).toMatch(/^<\?xml[^]*<svg[^]*error-rate[^]*<\/svg>/);
  });

  it('bad input exits 2 with the reason', async () => {
    const file = join(dir, 'cli-clean.yaml');
    await writeFile(file, policyYaml('clean', prometheus.url));
    const reversed = await kubestead(['backtest', file, '--from', at(T0 + MIN), '--to', at(T0)]);
    expect([reversed.code, reversed.stderr]).toEqual([2, expect.stringContaining('--to must be after --from')]);
    const late = await kubestead([
      'backtest',
      file,
      '--from',
      at(T0 + 20 * MIN),
      '--to',
      at(T0 + 25 * MIN),
      '--start',
      at(T0),
    ]);
    expect(late.code).toBe(2);
    expect(late.stderr).toContain('would have promoted before --from');
    const bad = await kubestead(['backtest', file, '--from', 'yesterday', '--to', at(T0)]);
    expect([bad.code, bad.stderr]).toEqual([
      2,
      expect.stringContaining('--from: expected an RFC 3339 time or Unix seconds'),
    ]);
  });
});
