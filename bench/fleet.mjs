// What the controller and adoption benches share: a Prometheus stand-in, N Deployments each with
// its RolloutPolicy in the sandbox, the clients of the bench's own process, polling helpers, and
// what the controller bench reads of an operator (its ticks, API requests, CPU and memory).
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AppsV1Api, AutoscalingV2Api, CoreV1Api, CustomObjectsApi, KubeConfig, Watch } from '@kubernetes/client-node';
import { reuseAgents } from '../dist/adapters/kube/requests.js';
import { createTickReconciler } from '../dist/runtime/tick/index.js';
import { ROOT } from './support.mjs';

export const INTERVAL_S = 10;
export const DISTINCT_QUERIES = 10;
export const NS = 'bench';
export const POLICY = { group: 'kubestead.io', version: 'v1alpha1', plural: 'rolloutpolicies' };

/**
 * A Prometheus stand-in: counts requests and distinct queries; every answer is `state.value`
 * (0.01 until changed), or `state.breach.value` for the queries `state.breach.matches`.
 */
export async function startProvider() {
  const state = { requests: 0, queries: new Set(), value: '0.01', breach: null };
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      state.requests += 1;
      const query = new URLSearchParams(body).get('query');
      state.queries.add(query);
      const value = state.breach?.matches(query) ? state.breach.value : state.value;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          status: 'success',
          data: { resultType: 'vector', result: [{ metric: {}, value: [Date.now() / 1000, value] }] },
        }),
      );
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}`, state, close: () => new Promise((r) => server.close(r)) };
}

/** The bench process's clients of the sandbox (keep-alive agents: a TLS handshake a request would load it). */
export function benchClients(kubeconfigPath) {
  const config = new KubeConfig();
  config.loadFromFile(kubeconfigPath);
  reuseAgents(config);
  return {
    config,
    kubeconfigPath,
    apps: config.makeApiClient(AppsV1Api),
    core: config.makeApiClient(CoreV1Api),
    custom: config.makeApiClient(CustomObjectsApi),
    autoscaling: config.makeApiClient(AutoscalingV2Api),
  };
}

export async function parallel(count, fn, concurrency = 16) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await fn(next++);
    }),
  );
}

export async function until(probe, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** The query of policy i's check: one of DISTINCT_QUERIES. */
export const queryOf = (i) => `sum(rate(errors_total{shard="${i % DISTINCT_QUERIES}"}[1m]))`;

/**
 * BENCH_HPA_EVERY=K: every K-th Deployment (app-0, app-K, …) is autoscaled, as most production Deployments are
 * (docs/hpa.md): an HPA of 2–4 replicas at 50 % cpu, its pods asking 100m and using 100m together (the sandbox's
 * cpu-load), so that the HPA is active and at rest at 2. 0 (the default): no HPA.
 */
export const HPA_EVERY = Number(process.env.BENCH_HPA_EVERY ?? 0);
export const autoscaled = (i) => HPA_EVERY > 0 && i % HPA_EVERY === 0;

/** The Deployment app-i: 2 replicas of app:1; an autoscaled one asks cpu and has a load, and gets its HPA. */
async function createApp(kc, i) {
  const labels = { app: `app-${i}` };
  const hpa = autoscaled(i);
  const container = { name: 'app', image: 'app:1', ...(hpa ? { resources: { requests: { cpu: '100m' } } } : {}) };
  await kc.apps.createNamespacedDeployment({
    namespace: NS,
    body: {
      metadata: {
        name: `app-${i}`,
        labels,
        ...(hpa ? { annotations: { 'sandbox.kubestead.io/cpu-load': '100m' } } : {}),
      },
      spec: {
        replicas: 2,
        selector: { matchLabels: labels },
        template: { metadata: { labels }, spec: { containers: [container] } },
      },
    },
  });
  if (!hpa) return;
  await kc.autoscaling.createNamespacedHorizontalPodAutoscaler({
    namespace: NS,
    body: {
      metadata: { name: `app-${i}` },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: `app-${i}` },
        minReplicas: 2,
        maxReplicas: 4,
        metrics: [
          { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } },
        ],
      },
    },
  });
}

/**
 * N Deployments app-0… (every HPA_EVERY-th autoscaled) and a policy on each, at INTERVAL_S, checking `query(i)`
 * (default queryOf) against max 1.
 */
export async function populate(kc, provider, n, query = queryOf) {
  await promisify(execFile)('kubectl', ['apply', '-f', join(ROOT, 'crds/rolloutpolicies.kubestead.io.yaml')], {
    env: { ...process.env, KUBECONFIG: kc.kubeconfigPath },
  });
  await kc.core.createNamespace({ body: { metadata: { name: NS } } });
  await parallel(n, async (i) => {
    await createApp(kc, i);
    await kc.custom.createNamespacedCustomObject({
      ...POLICY,
      namespace: NS,
      body: {
        apiVersion: 'kubestead.io/v1alpha1',
        kind: 'RolloutPolicy',
        metadata: { name: `app-${i}` },
        spec: {
          targetRef: { kind: 'Deployment', name: `app-${i}` },
          interval: `${INTERVAL_S}s`,
          steps: [{ weight: 50, soak: '1h' }],
          providers: { prom: { prometheus: { address: provider.url } } },
          checks: [{ name: 'errors', provider: 'prom', query: query(i), max: 1 }],
        },
      },
    });
  });
}

/** How many policies are in each status.phase ('none' before the first status). */
export async function phases(kc) {
  const list = await kc.custom.listNamespacedCustomObject({ ...POLICY, namespace: NS });
  const counts = {};
  for (const p of list.items) counts[p.status?.phase ?? 'none'] = (counts[p.status?.phase ?? 'none'] ?? 0) + 1;
  return counts;
}

/**
 * Watches the bench's Deployments matching `labelSelector`, calling `onEvent(type, deployment, at)`
 * with the moment each event arrived. The server ends a watch now and then, as a real one does: it
 * is opened again from the last resourceVersion seen, so no event is missed. Resolves once open.
 */
export async function watchDeployments(kc, labelSelector, onEvent) {
  let resourceVersion;
  let request;
  let stopped = false;
  const open = async () => {
    request = await new Watch(kc.config).watch(
      `/apis/apps/v1/namespaces/${NS}/deployments`,
      resourceVersion ? { labelSelector, resourceVersion } : { labelSelector },
      (type, d) => {
        resourceVersion = d.metadata?.resourceVersion ?? resourceVersion;
        onEvent(type, d, Date.now());
      },
      () => {
        if (!stopped) void open();
      },
    );
  };
  await open();
  return () => {
    stopped = true;
    request.abort();
  };
}

/** The operator's API requests (all, and writes) as its /metrics counts them. */
export async function apiCounts(port) {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const counts = { all: 0, writes: 0 };
  for (const m of text.matchAll(/^kubestead_api_requests_total\{verb="(\w+)",code="[^"]+"\} (\d+)/gm)) {
    counts.all += Number(m[2]);
    if (['create', 'update', 'patch', 'delete'].includes(m[1])) counts.writes += Number(m[2]);
  }
  return counts;
}

/** Sleeps until the next multiple of the interval on the wall clock: the metrics cache's windows start there. */
export async function alignToInterval() {
  const ms = INTERVAL_S * 1000;
  await new Promise((r) => setTimeout(r, ms - (Date.now() % ms) + 100));
}

/** Records each tick (its start and duration) while `on`. */
export function tickRecorder() {
  const rec = { on: false, ticks: [], starts: new Map() };
  rec.factory = (deps) => {
    const inner = createTickReconciler(deps);
    return {
      async reconcile(key, signal) {
        const t0 = performance.now();
        try {
          return await inner.reconcile(key, signal);
        } finally {
          if (rec.on) {
            rec.ticks.push(performance.now() - t0);
            const id = `${key.namespace}/${key.name}`;
            rec.starts.set(id, [...(rec.starts.get(id) ?? []), t0]);
          }
        }
      },
      forget: (key) => inner.forget(key),
    };
  };
  rec.reset = () => {
    rec.ticks = [];
    rec.starts = new Map();
  };
  return rec;
}

/** CPU time (user + system) a process has used, from /proc (clock ticks of 10 ms). */
export const cpuMsOf = async (pid) => {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
};

/** A field of /proc/PID/status in MiB (VmRSS, VmHWM). */
export const procStatus = async (pid, field) =>
  Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(await readFile(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
