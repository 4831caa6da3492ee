// Metric providers: per-tick dedupe of identical queries, and what a measurement costs beside the raw HTTP request.
// A local Prometheus-shaped server on 127.0.0.1 answers every query; nothing leaves the machine.
import { createServer } from 'node:http';
import { performance } from 'node:perf_hooks';
import { createMetricsRuntime, createProvider } from '../dist/adapters/providers/provider.js';
import { measureChecks } from '../dist/adapters/providers/measure.js';
import { staticSecretReader } from '../dist/adapters/secrets/reader.js';

const POLICIES = 1000;
const DISTINCT = 10;
const TICKS = 5;
const SEQUENTIAL = 500;

function startServer() {
  let requests = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      requests++;
      const query = new URLSearchParams(body).get('query') ?? '';
      const value = /vector\((\d+)\)/.exec(query)?.[1] ?? '0';
      const time = Number(new URLSearchParams(body).get('time') ?? 0);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          status: 'success',
          data: { resultType: 'vector', result: [{ metric: { app: 'checkout' }, value: [time, value] }] },
        }),
      );
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, url: `http://127.0.0.1:${server.address().port}`, count: () => requests }),
    ),
  );
}

function spec(url, p) {
  const checks = [0, 1].map((c) => ({
    name: `c${c}`,
    provider: 'prom',
    query: `sum(rate(http_requests_total{app="{{ target.name }}"}[2m])) * 0 + vector(${(p + c * 3) % DISTINCT})`,
    max: 100,
  }));
  return {
    targetRef: { kind: 'Deployment', name: 'checkout' },
    interval: '30s',
    steps: [{ weight: 10 }],
    trafficRouting: { replicas: {} },
    providers: { prom: { prometheus: { address: url, timeout: '5s' } } },
    checks,
    derived: {},
    rules: [],
    onMetricUnavailable: 'rollback',
    mode: 'active',
    podHealth: { maxRestarts: 3, progressDeadline: '10m', maxWarningEvents: null },
  };
}

const ctx = (time, p = 0) => ({
  time,
  target: { name: 'checkout', namespace: 'shop' },
  policy: { name: `p${p}`, namespace: 'shop' },
  rollout: { canaryRevision: 'abc' },
  intervalSeconds: 30,
  secrets: staticSecretReader({}),
});
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (ms) => (ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(2)} ms`);

export async function run() {
  const { server, url, count } = await startServer();
  const runtime = createMetricsRuntime();
  const specs = Array.from({ length: POLICIES }, (_, p) => spec(url, p));

  const perTick = [];
  const wall = [];
  const start = Date.parse('2026-11-26T10:00:00Z');
  for (let t = 0; t < TICKS; t++) {
    const time = new Date(start + t * 30_000);
    const before = count();
    const started = performance.now();
    const results = await Promise.all(specs.map((s, p) => measureChecks(s, ctx(time, p), runtime)));
    wall.push(performance.now() - started);
    perTick.push(count() - before);
    const bad = results.flatMap((r) => Object.values(r)).filter((m) => m.status !== 'ok');
    if (bad.length) throw new Error(`${bad.length} measurements unavailable: ${bad[0].error}`);
  }
  console.log(`${POLICIES} policies × 2 checks, ${DISTINCT} distinct queries, ${TICKS} ticks`);
  console.log(`  backend requests per tick: ${perTick.join(', ')}  (expected ${DISTINCT} each)`);
  console.log(
    `  tick wall time (${POLICIES * 2} measurements): median ${fmt(median(wall))}, ${fmt(median(wall) / (POLICIES * 2))} per measurement`,
  );
  if (perTick.some((n) => n !== DISTINCT))
    throw new Error(`expected ${DISTINCT} requests per tick, got ${perTick.join(', ')}`);

  // Raw HTTP: the same POST with Node's fetch (keep-alive), body read and parsed; one at a time.
  const body = new URLSearchParams({ query: 'vector(1)', time: '1795687200' }).toString();
  const raw = [];
  for (let i = 0; i < SEQUENTIAL + 50; i++) {
    const started = performance.now();
    const res = await fetch(`${url}/api/v1/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    JSON.parse(await res.text());
    if (i >= 50) raw.push(performance.now() - started);
  }
  // measure(): a cache miss each time (a new tick time), so each is one full request through the provider.
  const provider = createProvider('prom', specs[0].providers.prom, runtime);
  const check = specs[0].checks[0];
  const full = [];
  for (let i = 0; i < SEQUENTIAL + 50; i++) {
    const started = performance.now();
    const m = await provider.measure(check, ctx(new Date(start + 1e9 + i * 1000)));
    if (m.status !== 'ok') throw new Error(m.error);
    if (i >= 50) full.push(performance.now() - started);
  }
  // measure() answered from the cache (same tick, same query).
  const hitTime = new Date(start + 2e9);
  await provider.measure(check, ctx(hitTime));
  const hitsStarted = performance.now();
  for (let i = 0; i < SEQUENTIAL; i++) await provider.measure(check, ctx(hitTime));
  const hit = (performance.now() - hitsStarted) / SEQUENTIAL;

  const overhead = median(full) - median(raw);
  console.log(`  raw HTTP request (fetch + JSON.parse), median of ${SEQUENTIAL}: ${fmt(median(raw))}`);
  console.log(
    `  measure() with a backend request, median of ${SEQUENTIAL}: ${fmt(median(full))}  → overhead ${fmt(overhead)} per measurement (${((overhead / median(raw)) * 100).toFixed(0)} % of the raw request)`,
  );
  console.log(`  measure() answered from the tick cache: ${fmt(hit)} per measurement`);

  await runtime.http.close();
  await new Promise((resolve) => server.close(resolve));
}
