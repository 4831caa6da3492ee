// Time to rollback: from the moment a canary starts failing to the rollback write reaching the API
// server, against the real Prometheus (scraping every second) and `kubestead run` in a process of
// its own, at policy intervals of 2 s and 10 s. Each trial releases a new image, waits a random
// moment of the step (0 to 2 intervals into its soak), makes the canary fail half its requests
// (the exporter answers so from that instant: the breach), and times the canary's scale-down to 0
// as the API server's watch reports it. Beside each figure, the floor: when the query itself
// crossed its bound (query_range afterwards, at 50 ms) + one interval (the tick that reads it may
// have just passed) + the tick's own duration (the controller's kubestead_tick_duration_seconds).
// Target: p99 of (time to rollback − floor) ≤ 1 s at each interval. BENCH_ROLLBACK_TRIALS (default
// 20 per interval) and BENCH_ROLLBACK_LANES (default 5 apps rolling out side by side) size it.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AppsV1Api, ApiextensionsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, Watch } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { systemClock } from '../dist/lib/clock/clock.js';
import { HEALTHY, ShopTraffic } from '../dist/tools/demo/exporter.js';
import { startShopExporter } from '../dist/tools/demo/exporter-server.js';
import { prometheusOnPath, startRealPrometheus } from '../dist/tools/demo/prometheus.js';
import { forwardWarnings, percentile, ROOT, startSandboxProcess } from './support.mjs';

const TRIALS = Number(process.env.BENCH_ROLLBACK_TRIALS ?? 20);
const LANES = Number(process.env.BENCH_ROLLBACK_LANES ?? 5);
const INTERVALS_S = [2, 10];
const NS = 'rollback';
const POLICY = { group: 'kubestead.io', version: 'v1alpha1', plural: 'rolloutpolicies' };
const MAX = 0.05;
const FAILING = 0.5;
const WINDOW = '10s';
const MARGIN_S = 1;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const query = (app) =>
  `sum(rate(http_requests_total{app="${app}",track="canary",code="500"}[${WINDOW}])) / sum(rate(http_requests_total{app="${app}",track="canary"}[${WINDOW}]))`;

async function until(probe, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await sleep(50);
  }
}

/** `kubestead run` as a user starts it, in a process of its own; resolves with its /metrics port. */
async function startController(kubeconfig) {
  const child = spawn(
    process.execPath,
    [
      join(ROOT, 'bin/kubestead'),
      'run',
      '--kubeconfig',
      kubeconfig,
      '-n',
      NS,
      '--metrics-addr',
      '127.0.0.1:0',
      '--health-addr',
      '127.0.0.1:0',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const port = await new Promise((done, fail) => {
    let out = '';
    const onLog = (chunk) => {
      out += chunk;
      const found = /"metricsPort":(\d+)/.exec(out);
      if (found) {
        child.stderr.off('data', onLog);
        forwardWarnings(child.stderr);
        done(Number(found[1]));
      }
    };
    child.stderr.on('data', onLog);
    child.on('exit', (code) => fail(new Error(`kubestead run exited ${code}: ${out}`)));
  });
  return {
    port,
    stop: () => {
      child.kill('SIGTERM');
      return new Promise((r) => child.on('exit', r));
    },
  };
}

/** Mean tick duration (s) between two readings of the controller's histogram. */
async function tickTotals(port) {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const read = (name) =>
    Number(new RegExp(`^kubestead_tick_duration_seconds_${name} ([\\d.e+-]+)$`, 'm').exec(text)?.[1] ?? 0);
  return { sum: read('sum'), count: read('count') };
}

async function promValue(prom, expr, at) {
  const url = `${prom.url}/api/v1/query?query=${encodeURIComponent(expr)}${at ? `&time=${at / 1000}` : ''}`;
  const body = await (await fetch(url)).json();
  const v = Number(body.data?.result?.[0]?.value?.[1]);
  return Number.isFinite(v) ? v : null;
}

/** The first moment (ms) at or after `from` at which the query is above the bound, as Prometheus evaluates it. */
async function crossing(prom, app, from, to) {
  const url = `${prom.url}/api/v1/query_range?query=${encodeURIComponent(query(app))}&start=${from / 1000}&end=${to / 1000}&step=0.05`;
  const body = await (await fetch(url)).json();
  const point = (body.data?.result?.[0]?.values ?? []).find(([t, v]) => t * 1000 >= from && Number(v) > MAX);
  return point ? point[0] * 1000 : null;
}

/**
 * Each Deployment's moment of being scaled to 0 (the rollback's write), as the API server's watch
 * tells it. The server ends a watch now and then, as a real one does: it is opened again from the
 * last resourceVersion seen, so no event is missed.
 */
async function watchScaleDowns(kc) {
  const waiters = new Map();
  let resourceVersion;
  let request;
  let stopped = false;
  const open = async () => {
    request = await new Watch(kc).watch(
      `/apis/apps/v1/namespaces/${NS}/deployments`,
      resourceVersion ? { resourceVersion } : {},
      (type, d) => {
        const at = Date.now();
        resourceVersion = d.metadata?.resourceVersion ?? resourceVersion;
        const waiter = waiters.get(d.metadata?.name);
        if (waiter && d.spec?.replicas === 0) {
          waiters.delete(d.metadata.name);
          waiter(at);
        }
      },
      () => {
        if (!stopped) void open();
      },
    );
  };
  await open();
  return {
    next: (name) => new Promise((done) => waiters.set(name, done)),
    stop: () => {
      stopped = true;
      request.abort();
    },
  };
}

async function createLane(api, prom, name, intervalS) {
  const labels = { app: name };
  await api.apps.createNamespacedDeployment({
    namespace: NS,
    body: {
      metadata: { name, labels },
      spec: {
        replicas: 3,
        selector: { matchLabels: labels },
        template: { metadata: { labels }, spec: { containers: [{ name: 'app', image: 'app:1' }] } },
      },
    },
  });
  await api.custom.createNamespacedCustomObject({
    ...POLICY,
    namespace: NS,
    body: {
      apiVersion: 'kubestead.io/v1alpha1',
      kind: 'RolloutPolicy',
      metadata: { name },
      spec: {
        targetRef: { kind: 'Deployment', name },
        interval: `${intervalS}s`,
        steps: [{ weight: 25, soak: '1h' }],
        providers: { prom: { prometheus: { address: prom.url } } },
        checks: [{ name: 'error-rate', provider: 'prom', query: query(name), max: MAX }],
      },
    },
  });
}

const statusOf = async (api, name) =>
  (await api.custom.getNamespacedCustomObject({ ...POLICY, namespace: NS, name })).status ?? {};

/** One release of a lane, failed at a random moment of its step: the times of the breach, the crossing and the rollback write. */
async function trial(api, prom, lane, version, scaleDowns) {
  const { name, traffic, intervalS } = lane;
  const started = new Date().toISOString();
  await api.apps.patchNamespacedDeployment({
    name,
    namespace: NS,
    body: [{ op: 'replace', path: '/spec/template/spec/containers/0/image', value: `app:${version}` }],
  });
  await until(
    async () => {
      const s = await statusOf(api, name);
      if (s.canaryRevision && s.phase === 'RolledBack' && s.lastDecision?.time > started)
        throw new Error(`${name} rolled back before the breach: ${JSON.stringify(s.lastDecision)}`);
      return s.phase === 'Progressing' && s.effectiveWeight === 25;
    },
    60_000,
    `${name} progressing at 25 %`,
  );
  await sleep(Math.random() * 2 * intervalS * 1000);
  const rolledBack = scaleDowns.next(name);
  const breachAt = Date.now();
  traffic.set('canary', { errorRate: FAILING });
  const rollbackAt = await Promise.race([rolledBack, sleep(5 * intervalS * 1000 + 30_000).then(() => null)]);
  traffic.set('canary', { errorRate: HEALTHY.errorRate });
  if (rollbackAt === null)
    throw new Error(
      `${name}: no rollback within ${5 * intervalS + 30} s of the breach; status ${JSON.stringify(await statusOf(api, name))}; query now ${await promValue(prom, query(name))}`,
    );
  const crossedAt = await crossing(prom, name, breachAt, rollbackAt);
  // The next release starts once the window holds no failing sample again.
  await until(
    async () => {
      const v = await promValue(prom, query(name));
      return v !== null && v < MAX / 2;
    },
    60_000,
    `${name} healthy again`,
  );
  const result = {
    toRollback: (rollbackAt - breachAt) / 1000,
    crossing: crossedAt === null ? null : (crossedAt - breachAt) / 1000,
  };
  if (process.env.BENCH_VERBOSE)
    console.log(
      `  ${name} v${version}: breach ${new Date(breachAt).toISOString()}, crossed +${result.crossing} s, rolled back +${result.toRollback} s`,
    );
  return result;
}

async function measureInterval(api, prom, controller, lanes, intervalS) {
  const before = await tickTotals(controller.port);
  const results = [];
  let version = 2;
  await Promise.all(
    lanes.map(async (lane) => {
      for (let i = lane.index; i < TRIALS; i += lanes.length)
        results.push(await trial(api, prom, lane, version++, lane.scaleDowns));
    }),
  );
  const after = await tickTotals(controller.port);
  const tickS = (after.sum - before.sum) / Math.max(1, after.count - before.count);
  const usable = results.filter((r) => r.crossing !== null);
  const floors = usable.map((r) => r.crossing + intervalS + tickS);
  const over = usable.map((r, i) => r.toRollback - floors[i]);
  const s = (v) => `${v.toFixed(2)} s`;
  const times = results.map((r) => r.toRollback);
  const met = usable.length === results.length && percentile(over, 0.99) <= MARGIN_S;
  console.log(
    `interval ${intervalS} s, n=${results.length}: breach → rollback write median ${s(percentile(times, 0.5))}, p99 ${s(percentile(times, 0.99))} (min ${s(Math.min(...times))})`,
  );
  console.log(
    `  floor (query crosses the bound + one interval + the tick): median ${s(percentile(floors, 0.5))}, p99 ${s(percentile(floors, 0.99))}; the query crossed ${s(
      percentile(
        usable.map((r) => r.crossing),
        0.5,
      ),
    )} after the breach (median), a tick took ${(tickS * 1000).toFixed(0)} ms (mean)`,
  );
  console.log(
    `  time to rollback − floor: median ${s(percentile(over, 0.5))}, p99 ${s(percentile(over, 0.99))} (target ≤ ${MARGIN_S} s${usable.length < results.length ? `; ${results.length - usable.length} trial(s) without a crossing found` : ''}) ${met ? 'PASS' : 'FAIL'}`,
  );
  return met;
}

export async function run() {
  const binary = prometheusOnPath();
  if (!binary) {
    console.log('rollback: not run: no `prometheus` on PATH (Debian: apt-get install prometheus)');
    return;
  }
  const sandbox = await startSandboxProcess();
  const kc = new KubeConfig();
  kc.loadFromFile(sandbox.kubeconfig);
  const api = { apps: kc.makeApiClient(AppsV1Api), custom: kc.makeApiClient(CustomObjectsApi) };
  await kc.makeApiClient(ApiextensionsV1Api).createCustomResourceDefinition({
    body: parse(await readFile(join(ROOT, 'crds/rolloutpolicies.kubestead.io.yaml'), 'utf8')),
  });
  await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: NS } } });
  const lanes = INTERVALS_S.flatMap((intervalS) =>
    Array.from({ length: LANES }, (_, index) => ({
      name: `app${intervalS}s-${index}`,
      intervalS,
      index,
      traffic: new ShopTraffic(systemClock, `app${intervalS}s-${index}`),
    })),
  );
  const exporters = await Promise.all(lanes.map((lane) => startShopExporter(lane.traffic)));
  const prom = await startRealPrometheus(
    binary,
    exporters.map((e) => e.url),
    systemClock,
  );
  const controller = await startController(sandbox.kubeconfig);
  const scaleDowns = await watchScaleDowns(kc);
  const verdicts = [];
  try {
    console.log(
      `machine: load ${(await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ')}; Prometheus scrapes every 1 s; rate window ${WINDOW}; ${LANES} apps at a time per interval`,
    );
    for (const lane of lanes) await createLane(api, prom, lane.name, lane.intervalS);
    for (const lane of lanes)
      await until(async () => (await statusOf(api, lane.name)).phase === 'Idle', 60_000, `${lane.name} adopted`);
    // A check with no data yet is unavailable, and rolls back at once: each query must answer first.
    for (const lane of lanes)
      await until(
        async () => (await promValue(prom, query(lane.name))) !== null,
        60_000,
        `Prometheus answering for ${lane.name}`,
      );
    for (const intervalS of INTERVALS_S) {
      verdicts.push(
        await measureInterval(
          api,
          prom,
          controller,
          lanes.filter((l) => l.intervalS === intervalS).map((l) => ({ ...l, scaleDowns })),
          intervalS,
        ),
      );
    }
  } finally {
    scaleDowns.stop();
    await controller.stop();
    await prom.close();
    await Promise.all(exporters.map((e) => e.close()));
    await sandbox.stop();
  }
  console.log(verdicts.every(Boolean) ? 'all targets met' : 'targets NOT met');
}
