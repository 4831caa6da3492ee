// Sandbox cluster under load: 1,000 Deployments and 1,000 custom resources, an informer on each
// kind, through the real @kubernetes/client-node over HTTPS. Reports request latency percentiles,
// the ratio of loaded to idle latency, informer sync time and memory, all measured in this one run.
import {
  AppsV1Api,
  ApiextensionsV1Api,
  CustomObjectsApi,
  CoreV1Api,
  makeInformer,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { Agent, request } from 'node:https';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { startSandbox } from '@kubestead/sandbox';

/** A GET over one kept-alive TLS connection: the server's own latency, without client-node's overhead. */
function rawGet(sandbox, agent, path) {
  return new Promise((resolve, reject) => {
    const req = request(
      `${sandbox.url}${path}`,
      { agent, ca: sandbox.caCert, headers: { Authorization: `Bearer ${sandbox.token}` } },
      (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`GET ${path}: ${res.statusCode}`))));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const N = 1000;

/** A full GC before each memory reading, also when node was started without --expose-gc. */
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');
const CONCURRENCY = 16;

function percentiles(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  return { n: s.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: s[s.length - 1] };
}

function fmt(p) {
  return `n=${p.n} p50=${p.p50.toFixed(2)}ms p95=${p.p95.toFixed(2)}ms p99=${p.p99.toFixed(2)}ms max=${p.max.toFixed(2)}ms`;
}

async function timed(count, fn, concurrency = CONCURRENCY) {
  const samples = [];
  let next = 0;
  async function worker() {
    while (next < count) {
      const i = next++;
      const t = performance.now();
      await fn(i);
      samples.push(performance.now() - t);
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  return percentiles(samples);
}

async function until(probe, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

function deployment(i) {
  const name = `app-${i}`;
  return {
    metadata: { name, labels: { bench: 'yes' } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'app:1' }] } },
    },
  };
}

const crd = {
  metadata: { name: 'widgets.bench.kubestead.io' },
  spec: {
    group: 'bench.kubestead.io',
    scope: 'Namespaced',
    names: { plural: 'widgets', kind: 'Widget' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        subresources: { status: {} },
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                required: ['size'],
                properties: { size: { type: 'integer', minimum: 0 }, owner: { type: 'string' } },
              },
              status: { type: 'object', properties: { phase: { type: 'string' } } },
            },
          },
        },
      },
    ],
  },
};
const W = { group: 'bench.kubestead.io', version: 'v1', plural: 'widgets', namespace: 'bench' };

export async function run() {
  gc();
  const baseline = process.memoryUsage();
  const sandbox = await startSandbox({ workloads: { readyDelayMs: 100, resyncMs: 1000 } });
  const kc = sandbox.kubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  await core.createNamespace({ body: { metadata: { name: 'bench' } } });
  await kc.makeApiClient(ApiextensionsV1Api).createCustomResourceDefinition({ body: crd });

  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const idleGet = await timed(200, () => core.readNamespace({ name: 'bench' }), 1);
  const idleRaw = await timed(500, () => rawGet(sandbox, agent, '/api/v1/namespaces/bench'), 1);

  const deployInformer = makeInformer(kc, '/apis/apps/v1/namespaces/bench/deployments', () =>
    apps.listNamespacedDeployment({ namespace: 'bench' }),
  );
  const widgetInformer = makeInformer(kc, '/apis/bench.kubestead.io/v1/namespaces/bench/widgets', () =>
    custom.listNamespacedCustomObject(W),
  );
  await deployInformer.start();
  await widgetInformer.start();

  const started = performance.now();
  const createDeploy = await timed(N, (i) =>
    apps.createNamespacedDeployment({ namespace: 'bench', body: deployment(i) }),
  );
  const createWidget = await timed(N, (i) =>
    custom.createNamespacedCustomObject({
      ...W,
      body: { apiVersion: 'bench.kubestead.io/v1', kind: 'Widget', metadata: { name: `w-${i}` }, spec: { size: i } },
    }),
  );
  const createsDone = performance.now() - started;
  await until(
    () => deployInformer.list('bench').length === N && widgetInformer.list('bench').length === N,
    120_000,
    'informer caches',
  );
  const informerSync = performance.now() - started;
  await until(
    () => deployInformer.list('bench').filter((d) => d.status?.readyReplicas === 1).length === N,
    180_000,
    'all Deployments ready',
  );
  const allReady = performance.now() - started;

  const loadedGet = await timed(200, () => core.readNamespace({ name: 'bench' }), 1);
  const loadedRaw = await timed(500, () => rawGet(sandbox, agent, '/api/v1/namespaces/bench'), 1);
  const rawList = await timed(20, () => rawGet(sandbox, agent, '/apis/apps/v1/namespaces/bench/deployments'), 1);
  const getDeploy = await timed(N, (i) => apps.readNamespacedDeployment({ name: `app-${i}`, namespace: 'bench' }));
  const patchWidget = await timed(N, (i) =>
    custom.patchNamespacedCustomObject(
      { ...W, name: `w-${i}`, body: { spec: { owner: `team-${i % 7}` } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    ),
  );
  await until(() => widgetInformer.list('bench').every((w) => w.spec?.owner), 60_000, 'patched widgets in the cache');
  const listDeploy = await timed(20, () => apps.listNamespacedDeployment({ namespace: 'bench' }));
  const listWidget = await timed(20, () => custom.listNamespacedCustomObject(W));

  gc();
  const loaded = process.memoryUsage();
  const stored = sandbox.api.store.dump();
  const storedBytes = Buffer.byteLength(JSON.stringify(stored));
  const count = (gr) => stored.filter((e) => e.gr === gr).length;

  console.log(
    `objects stored: ${stored.length} (deployments ${count('apps/deployments')}, replicasets ${count('apps/replicasets')}, pods ${count('/pods')}, widgets ${count('bench.kubestead.io/widgets')}, events ${count('/events')}); resourceVersion ${sandbox.api.store.resourceVersion}`,
  );
  console.log(`create Deployment      ${fmt(createDeploy)}`);
  console.log(`create custom resource ${fmt(createWidget)}`);
  console.log(`get Deployment         ${fmt(getDeploy)}`);
  console.log(`merge-patch CR         ${fmt(patchWidget)}`);
  console.log(`list 1,000 Deployments ${fmt(listDeploy)}`);
  console.log(`list 1,000 CRs         ${fmt(listWidget)}`);
  console.log(`(the above: client-node, ${CONCURRENCY} requests in flight; below: one at a time)`);
  console.log(`get Namespace idle, client-node     ${fmt(idleGet)}`);
  console.log(`get Namespace loaded, client-node   ${fmt(loadedGet)}`);
  console.log(`get Namespace idle, raw keep-alive  ${fmt(idleRaw)}`);
  console.log(`get Namespace loaded, raw keep-alive ${fmt(loadedRaw)}`);
  console.log(`list 1,000 Deployments, raw keep-alive ${fmt(rawList)}`);
  console.log(
    `loaded/idle GET latency ratio: client-node p50 ${(loadedGet.p50 / idleGet.p50).toFixed(2)}x p99 ${(loadedGet.p99 / idleGet.p99).toFixed(2)}x; raw p50 ${(loadedRaw.p50 / idleRaw.p50).toFixed(2)}x p99 ${(loadedRaw.p99 / idleRaw.p99).toFixed(2)}x; client-node/raw p50 ${(loadedGet.p50 / loadedRaw.p50).toFixed(1)}x`,
  );
  console.log(
    `2×${N} creates took ${(createsDone / 1000).toFixed(2)} s; both informer caches complete ${(informerSync - createsDone).toFixed(0)} ms after the last create answered; all ${N} Deployments ready ${(allReady / 1000).toFixed(2)} s after the first create`,
  );
  console.log(
    `memory (sandbox + client informers, one process): heapUsed ${mb(baseline.heapUsed)} → ${mb(loaded.heapUsed)} (+${mb(loaded.heapUsed - baseline.heapUsed)}), rss ${mb(baseline.rss)} → ${mb(loaded.rss)}`,
  );
  console.log(
    `heap per stored object: ${((loaded.heapUsed - baseline.heapUsed) / stored.length / 1024).toFixed(2)} KiB; stored JSON ${mb(storedBytes)} (heap/JSON ratio ${((loaded.heapUsed - baseline.heapUsed) / storedBytes).toFixed(2)}x)`,
  );

  const deleting = performance.now();
  const deleteDeploy = await timed(N, (i) => apps.deleteNamespacedDeployment({ name: `app-${i}`, namespace: 'bench' }));
  await until(
    () => sandbox.api.store.list('/pods').length === 0 && sandbox.api.store.list('apps/replicasets').length === 0,
    120_000,
    'the cascade',
  );
  console.log(
    `delete Deployment      ${fmt(deleteDeploy)}; background cascade to ${N} ReplicaSets and ${N} pods done ${((performance.now() - deleting) / 1000).toFixed(2)} s after the first delete`,
  );

  await deployInformer.stop();
  await widgetInformer.stop();
  agent.destroy();
  await sandbox.close();
}
