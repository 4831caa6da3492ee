// The controller under load: N active policies (default 1,000; BENCH_POLICIES) at 10 s intervals,
// each a canary in progress on its own Deployment in the sandbox cluster (a separate process, so
// that this process is the controller alone), checks answered by a local Prometheus stand-in.
// Reports tick duration p50/p99, the longest event-loop stall, RSS, API requests and writes per
// tick, provider requests against distinct queries, and whether every tick came within its interval.
import { spawn, execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { startOperator } from '../dist/controller/operator.js';
import { createTickReconciler } from '../dist/tick/index.js';
import { createLogger } from '../dist/log/logger.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const N = Number(process.env.BENCH_POLICIES ?? 1000);
const WINDOW_S = Number(process.env.BENCH_WINDOW_S ?? 60);
const INTERVAL_S = 10;
const DISTINCT_QUERIES = 10;
const NS = 'bench';
const POLICY = { group: 'kubestead.io', version: 'v1alpha1', plural: 'rolloutpolicies' };

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');

async function startSandboxProcess() {
  const dir = await mkdtemp(join(tmpdir(), 'kubestead-bench-'));
  const kubeconfig = join(dir, 'kubeconfig');
  const child = spawn(process.execPath, [join(ROOT, 'bin/kubestead'), 'sandbox', '--kubeconfig', kubeconfig, '--ready-delay', '50'], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((done, fail) => {
    let out = '';
    child.stdout.on('data', (c) => { out += c; if (out.includes('Kubeconfig written')) done(); });
    child.on('exit', (code) => fail(new Error(`sandbox exited ${code}`)));
  });
  return { kubeconfig, stop: async () => { child.kill('SIGTERM'); await new Promise((r) => child.on('exit', r)); await rm(dir, { recursive: true, force: true }); } };
}

/** A Prometheus stand-in: counts requests and distinct queries; every answer is 0.01. */
async function startProvider() {
  const state = { requests: 0, queries: new Set() };
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      state.requests += 1;
      state.queries.add(new URLSearchParams(body).get('query'));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [Date.now() / 1000, '0.01'] }] } }));
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}`, state, close: () => new Promise((r) => server.close(r)) };
}

async function parallel(count, fn, concurrency = 16) {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) await fn(next++);
  }));
}

async function until(probe, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

function percentile(samples, q) {
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
}

async function populate(kc, provider) {
  await promisify(execFile)('kubectl', ['apply', '-f', join(ROOT, 'crds/rolloutpolicies.kubestead.io.yaml')], { env: { ...process.env, KUBECONFIG: kc.kubeconfigPath } });
  await kc.core.createNamespace({ body: { metadata: { name: NS } } });
  await parallel(N, async (i) => {
    const labels = { app: `app-${i}` };
    await kc.apps.createNamespacedDeployment({ namespace: NS, body: { metadata: { name: `app-${i}`, labels }, spec: { replicas: 2, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'app', image: 'app:1' }] } } } } });
    await kc.custom.createNamespacedCustomObject({ ...POLICY, namespace: NS, body: {
      apiVersion: 'kubestead.io/v1alpha1', kind: 'RolloutPolicy', metadata: { name: `app-${i}` },
      spec: { targetRef: { kind: 'Deployment', name: `app-${i}` }, interval: `${INTERVAL_S}s`, steps: [{ weight: 50, soak: '1h' }],
        providers: { prom: { prometheus: { address: provider.url } } },
        checks: [{ name: 'errors', provider: 'prom', query: `sum(rate(errors_total{shard="${i % DISTINCT_QUERIES}"}[1m]))`, max: 1 }] },
    } });
  });
}

async function phases(kc) {
  const list = await kc.custom.listNamespacedCustomObject({ ...POLICY, namespace: NS });
  const counts = {};
  for (const p of list.items) counts[p.status?.phase ?? 'none'] = (counts[p.status?.phase ?? 'none'] ?? 0) + 1;
  return counts;
}

async function apiCounts(port) {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const counts = { all: 0, writes: 0 };
  for (const m of text.matchAll(/^kubestead_api_requests_total\{verb="(\w+)",code="[^"]+"\} (\d+)/gm)) {
    counts.all += Number(m[2]);
    if (['create', 'update', 'patch', 'delete'].includes(m[1])) counts.writes += Number(m[2]);
  }
  return counts;
}

export async function run() {
  const sandbox = await startSandboxProcess();
  const provider = await startProvider();
  const config = new KubeConfig();
  config.loadFromFile(sandbox.kubeconfig);
  const kc = { kubeconfigPath: sandbox.kubeconfig, apps: config.makeApiClient(AppsV1Api), core: config.makeApiClient(CoreV1Api), custom: config.makeApiClient(CustomObjectsApi) };
  const ticks = [];
  const starts = new Map();
  let recording = false;
  const reconcilerFactory = (deps) => {
    const inner = createTickReconciler(deps);
    return {
      async reconcile(key, signal) {
        const t0 = performance.now();
        try { return await inner.reconcile(key, signal); } finally {
          if (recording) {
            ticks.push(performance.now() - t0);
            const id = `${key.namespace}/${key.name}`;
            starts.set(id, [...(starts.get(id) ?? []), t0]);
          }
        }
      },
      forget: (key) => inner.forget(key),
    };
  };
  try {
    const t0 = Date.now();
    await populate(kc, provider);
    console.log(`populated ${N} Deployments and policies in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const operator = await startOperator({ kubeConfig: config, reconcilerFactory, logger: createLogger({ level: 'error' }) });
    const t1 = Date.now();
    await until(async () => (await phases(kc)).Idle === N, 900_000, 'every policy adopted');
    console.log(`adopted ${N} in ${((Date.now() - t1) / 1000).toFixed(1)} s`);
    const patch = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);
    await parallel(N, (i) => kc.apps.patchNamespacedDeployment({ name: `app-${i}`, namespace: NS, body: { spec: { template: { spec: { containers: [{ name: 'app', image: 'app:2' }] } } } } }, patch));
    const t2 = Date.now();
    await until(async () => (await phases(kc)).Progressing === N, 900_000, 'every canary started');
    console.log(`started ${N} canaries in ${((Date.now() - t2) / 1000).toFixed(1)} s`);
    await new Promise((r) => setTimeout(r, INTERVAL_S * 1000));

    const before = await apiCounts(operator.metricsPort);
    provider.state.requests = 0;
    provider.state.queries.clear();
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    recording = true;
    await new Promise((r) => setTimeout(r, WINDOW_S * 1000));
    recording = false;
    loop.disable();
    const after = await apiCounts(operator.metricsPort);
    gc();
    const rss = process.memoryUsage().rss / 2 ** 20;

    const gaps = [...starts.values()].flatMap((t) => t.slice(1).map((v, i) => v - t[i]));
    const late = gaps.filter((g) => g > INTERVAL_S * 1000 * 1.1 + 1000).length;
    const ticked = starts.size;
    const windows = WINDOW_S / INTERVAL_S;
    console.log(`ticks in ${WINDOW_S} s: ${ticks.length} (${(ticks.length / (N * windows)).toFixed(2)} of the ${N * windows} due); policies ticked: ${ticked}/${N}`);
    console.log(`tick duration: p50=${percentile(ticks, 0.5).toFixed(1)} ms p99=${percentile(ticks, 0.99).toFixed(1)} ms max=${Math.max(...ticks).toFixed(1)} ms`);
    console.log(`gaps between ticks of a policy: max=${(Math.max(...gaps) / 1000).toFixed(2)} s; later than interval+10%+1s: ${late}/${gaps.length}`);
    console.log(`longest event-loop stall: ${(loop.max / 1e6).toFixed(1)} ms (target ≤ 25 ms); p99 ${(loop.percentile(99) / 1e6).toFixed(1)} ms`);
    console.log(`controller RSS: ${rss.toFixed(0)} MiB (target ≤ 200 MiB)`);
    console.log(`API requests per tick: ${((after.all - before.all) / ticks.length).toFixed(2)}; writes per tick: ${((after.writes - before.writes) / ticks.length).toFixed(3)}`);
    console.log(`provider requests per interval: ${(provider.state.requests / windows).toFixed(1)} against ${provider.state.queries.size} distinct queries (ratio ${(provider.state.requests / windows / Math.max(1, provider.state.queries.size)).toFixed(2)})`);
    await operator.stop();
  } finally {
    await provider.close();
    await sandbox.stop();
  }
}
