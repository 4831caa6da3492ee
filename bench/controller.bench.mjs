// The controller under load: N active policies (default 1,000; BENCH_POLICIES) at 10 s intervals,
// each a canary in progress on its own Deployment in the sandbox cluster (a separate process, so
// that this process is the controller alone), checks answered by a local Prometheus stand-in.
// Two windows are measured in this process, all policies idle (adopted, no canary) and all
// progressing (a canary holding in a 1 h soak, its check's value changed once half-way), each
// reporting tick duration p50/p99, API requests and writes per tick, provider requests against
// distinct queries, and whether every tick came within its interval. After each, `kubestead run` as
// the image runs it (Dockerfile's ENV and node flags) takes over every policy in a process of its
// own: the stall targets are measured there (bench/loop-probe.mjs, loaded into it, samples its
// event loop at 1 ms), and the RSS target in the progressing one. This process's own stall (the
// harness beside the operator, Node's default flags) is printed too. BENCH_COMPARE_FLAGS=
// "none|--flag VAR=value" measures other settings beside the shipped one. Each target prints PASS or FAIL.
// BENCH_WINDOW_S / BENCH_IDLE_WINDOW_S set the windows. BENCH_HPA_EVERY=10 gives every tenth Deployment an HPA
// (fleet.mjs): the controller then also watches HPAs and keeps a copy of each for its primary. BENCH_REPLICAS=R runs R
// replicas with `--shards auto` instead, each in a process of its own, and measures the same windows and targets
// per replica (bench/replicas.mjs); its summary line names R.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { startOperator } from '../dist/runtime/controller/operator.js';
import { createLogger } from '../dist/lib/log/logger.js';
import {
  alignToInterval,
  apiCounts,
  autoscaled,
  benchClients,
  cpuMsOf,
  DISTINCT_QUERIES,
  INTERVAL_S,
  NS,
  parallel,
  phases,
  populate,
  procStatus,
  queryOf,
  startProvider,
  tickRecorder,
  until,
  watchDeployments,
} from './fleet.mjs';
import { shippedCommand } from './image.mjs';
import { describeReplica, measureReplicas, startReplicas, summarize } from './replicas.mjs';
import { forwardWarnings, percentile, ROOT, startSandboxProcess } from './support.mjs';

const N = Number(process.env.BENCH_POLICIES ?? 1000);
const WINDOW_S = Number(process.env.BENCH_WINDOW_S ?? 60);
const IDLE_WINDOW_S = Number(process.env.BENCH_IDLE_WINDOW_S ?? 30);
/** BENCH_REPLICAS=R: R replicas with `--shards auto` instead of one operator (0: unset, the one-replica run). */
const REPLICAS = Number(process.env.BENCH_REPLICAS ?? 0);
if (!Number.isInteger(REPLICAS) || REPLICAS < 0)
  throw new Error(`BENCH_REPLICAS: expected a whole number, got ${process.env.BENCH_REPLICAS}`);

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');

/**
 * The longest stretch the loop was held by this process's own work: each 10 ms timer's lateness,
 * capped by the CPU the process used meanwhile (all its threads: an upper bound). On a machine
 * whose load exceeds its cores, the event-loop delay also counts the time the OS ran others.
 */
function cpuBoundStall() {
  let last = performance.now();
  let lastCpu = process.cpuUsage();
  let max = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    const used = process.cpuUsage(lastCpu);
    max = Math.max(max, Math.min(now - last - 10, (used.user + used.system) / 1000));
    last = now;
    lastCpu = process.cpuUsage();
  }, 10);
  return () => {
    clearInterval(timer);
    return max;
  };
}

/** Where the RSS is: V8's heap (used of committed, by space) and what lives outside it. */
function memoryBreakdown() {
  const mib = (bytes) => (bytes / 2 ** 20).toFixed(0);
  const m = process.memoryUsage();
  const spaces = getHeapSpaceStatistics()
    .filter((s) => s.space_size > 2 ** 20)
    .map((s) => `${s.space_name.replace(/_space$/, '')} ${mib(s.space_used_size)}/${mib(s.space_size)}`);
  return `heap used ${mib(m.heapUsed)} of ${mib(m.heapTotal)} MiB committed [${spaces.join(', ')}]; external ${mib(m.external)} MiB; outside the heap ${mib(m.rss - m.heapTotal)} MiB`;
}

/**
 * `kubestead run` as a user runs it, in a process of its own (the bench's harness and its client
 * objects would otherwise count): it takes over every policy, and once it has ticked each about
 * three times, its RSS is sampled every second for two intervals (the most taken, no forced GC).
 * Half-way, `change` gives every check a new value, so each policy has one thing new to show. Its
 * longest event-loop stall over those two intervals comes from bench/loop-probe.mjs (1 ms
 * resolution); its own `nodejs_eventloop_lag_max_seconds` (10 ms) is reported beside it.
 */
async function controllerProcess(kubeconfig, command, change) {
  const env = { ...process.env };
  const flags = command.filter((token) => {
    const assignment = /^([A-Z_]+)=(.*)$/.exec(token);
    if (assignment) env[assignment[1]] = assignment[2];
    return !assignment;
  });
  const probeFile = join(await mkdtemp(join(tmpdir(), 'kubestead-probe-')), 'stalls');
  env.BENCH_LOOP_PROBE_FILE = probeFile;
  const args = [
    ...flags,
    '--import',
    pathToFileURL(join(ROOT, 'bench/loop-probe.mjs')).href,
    join(ROOT, 'bin/kubestead'),
    'run',
    '--kubeconfig',
    kubeconfig,
    '--metrics-addr',
    '127.0.0.1:0',
    '--health-addr',
    '127.0.0.1:0',
    '--log-level',
    'info',
  ];
  // its log goes to stderr: read until the first line names the metrics port, then only warnings
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'pipe'], env });
  try {
    const metricsPort = await new Promise((done, fail) => {
      let log = '';
      const onLog = (chunk) => {
        log += chunk;
        const port = /"metricsPort":(\d+)/.exec(log);
        if (port) {
          child.stderr.off('data', onLog);
          forwardWarnings(child.stderr);
          done(Number(port[1]));
        }
      };
      child.stderr.on('data', onLog);
      child.on('exit', (code) => fail(new Error(`kubestead run exited ${code}: ${log}`)));
    });
    const scrape = async () => {
      const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`).catch(() => new Response(''))).text();
      const value = (name) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
      return {
        reconciles: [...text.matchAll(/^kubestead_reconcile_duration_seconds_count\{[^}]*\} (\d+)/gm)].reduce(
          (sum, m) => sum + Number(m[1]),
          0,
        ),
        stallMs: value('nodejs_eventloop_lag_max_seconds') * 1000,
        heap: {
          used: value('nodejs_heap_size_used_bytes') / 2 ** 20,
          total: value('nodejs_heap_size_total_bytes') / 2 ** 20,
        },
      };
    };
    await until(
      async () => (await scrape()).reconciles >= 3 * N,
      600_000,
      'the controller process ticking every policy three times',
    );
    const [cpuBefore, before] = [await cpuMsOf(child.pid), await scrape()];
    const windowStart = Date.now();
    const samples = [];
    for (let i = 0; i < 2 * INTERVAL_S; i++) {
      if (i === INTERVAL_S) change();
      samples.push(await procStatus(child.pid, 'VmRSS'));
      await new Promise((r) => setTimeout(r, 1000));
    }
    const cpuMs = (await cpuMsOf(child.pid)) - cpuBefore;
    const after = await scrape();
    const windowEnd = Date.now();
    const ticks = after.reconciles - before.reconciles;
    const stalls = (await readFile(probeFile, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => line.split(' ').map(Number))
      .filter(([at]) => at > windowStart && at <= windowEnd)
      .map(([, ms]) => ms);
    return {
      max: Math.max(...samples),
      last: samples.at(-1),
      samples: samples.length,
      peak: await procStatus(child.pid, 'VmHWM'),
      heap: after.heap,
      stallMs: Math.max(...stalls),
      stallSeconds: stalls.length,
      promStallMs: after.stallMs,
      cpu: `${(cpuMs / ticks).toFixed(2)} ms of CPU a tick, ${((100 * cpuMs) / (samples.length * 1000)).toFixed(0)} % of a core`,
      command: [...command.filter((t) => !flags.includes(t)), 'node', ...flags, 'bin/kubestead run'].join(' '),
    };
  } finally {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.on('exit', r));
    }
    await rm(dirname(probeFile), { recursive: true, force: true });
  }
}

const describeRss = (m) =>
  `${m.max.toFixed(0)} MiB at most over ${m.samples} s of steady state (then ${m.last.toFixed(0)} MiB; peak since start ${m.peak.toFixed(0)} MiB; V8 heap ${m.heap.used.toFixed(0)} of ${m.heap.total.toFixed(0)} MiB; ${m.cpu}; longest event-loop stall ${m.stallMs.toFixed(1)} ms), \`${m.command}\``;

const sleepUntil = (at) => new Promise((r) => setTimeout(r, Math.max(0, at - Date.now())));

/**
 * One measured window of whole intervals (aligned to the metrics cache's windows): ticks, event-loop
 * delay, CPU and API requests over `seconds`; `during` runs at its middle.
 */
async function measure(rec, operator, provider, seconds, during) {
  await alignToInterval();
  const start = Date.now();
  const before = await apiCounts(operator.metricsPort);
  provider.state.requests = 0;
  provider.state.queries.clear();
  const loop = monitorEventLoopDelay({ resolution: 1 });
  rec.reset();
  const cpu = process.cpuUsage();
  const ownStall = cpuBoundStall();
  loop.enable();
  rec.on = true;
  await sleepUntil(start + (seconds * 1000) / 2);
  during?.();
  // Ends just before the next window begins: the provider requests counted are those of whole windows.
  await sleepUntil(start + seconds * 1000 - 150);
  rec.on = false;
  loop.disable();
  const used = process.cpuUsage(cpu);
  const ownStallMs = ownStall();
  const after = await apiCounts(operator.metricsPort);
  const gaps = [...rec.starts.values()].flatMap((t) => t.slice(1).map((v, i) => v - t[i]));
  return {
    cpuMs: (used.user + used.system) / 1000,
    ticks: [...rec.ticks],
    gaps,
    ticked: rec.starts.size,
    stallMs: loop.max / 1e6,
    stallP99Ms: loop.percentile(99) / 1e6,
    ownStallMs,
    requests: after.all - before.all,
    writes: after.writes - before.writes,
    providerRequests: provider.state.requests,
    distinctQueries: provider.state.queries.size,
    intervals: seconds / INTERVAL_S,
  };
}

/** 1 % of the policies (every hundredth) check a query of their own, which breaches on demand. */
const BREACH_QUERY = 'sum(rate(errors_total{shard="breaching"}[1m]))';
const breaches = (i) => i % 100 === 0;
const DETECTION_TARGET_MS = INTERVAL_S * 1000 + 2000;

/**
 * Detection: from the moment the provider starts answering a breaching value for the 1 % of the
 * policies that check BREACH_QUERY, to each one's rollback write (its canary Deployment scaled to
 * 0) as the API server's watch tells it. Waits at most 5 intervals + 30 s; a policy not rolled back
 * by then counts as never.
 */
async function detection(kc, provider) {
  const names = Array.from({ length: N }, (_, i) => i)
    .filter(breaches)
    .map((i) => `app-${i}`);
  let breachAt = Infinity;
  const rolledBack = new Map();
  const stop = await watchDeployments(kc, `app in (${names.join(',')})`, (type, d, at) => {
    if (at >= breachAt && d.spec?.replicas === 0 && !rolledBack.has(d.metadata.name))
      rolledBack.set(d.metadata.name, at - breachAt);
  });
  try {
    breachAt = Date.now();
    provider.state.breach = { matches: (query) => query === BREACH_QUERY, value: '5' };
    await until(async () => rolledBack.size === names.length, 5 * INTERVAL_S * 1000 + 30_000, 'rollbacks').catch(
      () => undefined,
    );
  } finally {
    stop();
  }
  const latencies = names.map((name) => rolledBack.get(name) ?? Infinity);
  const p99 = percentile(latencies, 0.99);
  target(
    `detection: breach to rollback write p99 ≤ one interval + 2 s (${DETECTION_TARGET_MS / 1000} s)`,
    p99 <= DETECTION_TARGET_MS,
    `p50 ${(percentile(latencies, 0.5) / 1000).toFixed(2)} s, p99 ${(p99 / 1000).toFixed(2)} s, max ${(Math.max(...latencies) / 1000).toFixed(2)} s over ${names.length} policies (${rolledBack.size} rolled back)`,
  );
}

/** The RSS target grows with the count: 120 MiB + 56 KiB a policy (≈ 175 MiB at 1,000, ≈ 400 MiB at 5,000). */
const RSS_TARGET_MIB = 120 + (56 * N) / 1024;

const results = [];
/** The summary line: every target met or how many missed, and the replicas and policies it was measured with. */
const printOutcome = () =>
  console.log(
    `\n${results.every(Boolean) ? 'all targets met' : `${results.filter((r) => !r).length} of ${results.length} targets missed`} (${REPLICAS ? `BENCH_REPLICAS=${REPLICAS}` : 'one replica'}, ${N} policies)`,
  );
function target(name, ok, figures) {
  results.push(ok);
  console.log(`${ok ? 'PASS' : 'FAIL'}  ${name}: ${figures}`);
}

/** The stall target, on `kubestead run` as shipped (controllerProcess's measurement). */
function stallTarget(label, m) {
  target(
    `longest event-loop stall ≤ 25 ms (\`kubestead run\` as shipped, ${label})`,
    m.stallMs <= 25,
    `${m.stallMs.toFixed(1)} ms over ${m.stallSeconds} s at 1 ms resolution (its nodejs_eventloop_lag_max_seconds, at prom-client's 10 ms, read ${m.promStallMs.toFixed(1)} ms; RSS ${m.max.toFixed(0)} MiB; load average ${loadavg()[0].toFixed(2)} on ${cpus().length} cores)`,
  );
}

/** A window shorter than an interval has no policy that ticked twice: no gap to show, rather than -Infinity. */
function longestGap(gaps) {
  return gaps.length
    ? `longest gap between two ticks of a policy ${(Math.max(...gaps) / 1000).toFixed(2)} s`
    : 'no policy ticked twice in the window';
}

function report(label, m) {
  const late = m.gaps.filter((g) => g > INTERVAL_S * 1000 * 1.1 + 1000).length;
  const due = N * m.intervals;
  console.log(`\n### ${label} (${m.intervals * INTERVAL_S} s)`);
  console.log(
    `ticks: ${m.ticks.length} (${(m.ticks.length / due).toFixed(2)} of the ${due} due); duration p50=${percentile(m.ticks, 0.5).toFixed(1)} ms p99=${percentile(m.ticks, 0.99).toFixed(1)} ms max=${Math.max(...m.ticks).toFixed(1)} ms`,
  );
  console.log(
    `API requests per tick: ${(m.requests / m.ticks.length).toFixed(2)}; writes: ${m.writes} (${(m.writes / m.ticks.length).toFixed(3)} per tick); event-loop delay p99 ${m.stallP99Ms.toFixed(1)} ms`,
  );
  console.log(
    `controller CPU: ${(m.cpuMs / m.ticks.length).toFixed(2)} ms per tick, ${((100 * m.cpuMs) / (m.intervals * INTERVAL_S * 1000)).toFixed(0)} % of one core; load average now ${loadavg()[0].toFixed(2)} on ${cpus().length} cores`,
  );
  target(
    `every policy ticked within its interval (${label})`,
    m.ticked === N && late === 0,
    `${m.ticked}/${N} policies ticked; ${longestGap(m.gaps)}; ${late}/${m.gaps.length} gaps over interval + 10 % jitter + 1 s`,
  );
  // The stall targets are the shipped process's (controllerProcess): this one also runs the harness, with Node's default flags.
  console.log(
    `longest event-loop stall of this process (the operator beside the bench's harness): ${m.stallMs.toFixed(1)} ms (of it this process's own CPU at most ${m.ownStallMs.toFixed(1)} ms; load average ${loadavg()[0].toFixed(2)} on ${cpus().length} cores)`,
  );
  const perInterval = m.providerRequests / m.intervals;
  target(
    `provider requests = distinct queries (${label})`,
    m.distinctQueries === 0 || perInterval <= m.distinctQueries,
    `${perInterval.toFixed(1)} requests per interval against ${m.distinctQueries} distinct queries (ratio ${(perInterval / Math.max(1, m.distinctQueries)).toFixed(2)})`,
  );
}

/** A new image for every Deployment: each policy starts a canary (step 1, a 1 h soak). */
async function startCanaries(kc) {
  const patch = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);
  await parallel(N, (i) =>
    kc.apps.patchNamespacedDeployment(
      {
        name: `app-${i}`,
        namespace: NS,
        body: { spec: { template: { spec: { containers: [{ name: 'app', image: 'app:2' }] } } } },
      },
      patch,
    ),
  );
  const t2 = Date.now();
  await until(async () => (await phases(kc)).Progressing === N, 900_000, 'every canary started');
  console.log(`started ${N} canaries in ${((Date.now() - t2) / 1000).toFixed(1)} s`);
}

/** The targets of one window over every replica, as report() checks them for one. */
function reportReplicas(label, m) {
  const all = summarize(m);
  const late = all.gaps.filter((g) => g > INTERVAL_S * 1000 * 1.1 + 1000).length;
  console.log(`\n### ${label}, ${m.each.length} replicas (${m.seconds} s)`);
  m.each.forEach((r, i) => console.log(describeReplica(r, i, m)));
  console.log(
    `ticks: ${all.ticks.length} (${(all.ticks.length / (N * m.intervals)).toFixed(2)} of the ${N * m.intervals} due); per replica CPU ${all.meanCpuMsPerTick.toFixed(2)} ms a tick, ${all.meanCorePercent.toFixed(0)} % of a core (mean of ${m.each.length}); load average now ${loadavg()[0].toFixed(2)} on ${cpus().length} cores`,
  );
  target(
    `every policy ticked within its interval, by one replica (${label})`,
    all.ticked === N && late === 0 && all.tickedTwice === 0,
    `${all.ticked}/${N} policies ticked, ${all.tickedTwice} by two replicas; ${longestGap(all.gaps)}; ${late}/${all.gaps.length} gaps over interval + 10 % jitter + 1 s`,
  );
  const bound = Math.ceil((1.25 * N) / m.each.length);
  const owned = m.each.map((r) => r.owned);
  target(
    `owned gauges sum to the policies, none above ⌈1.25 × average⌉ = ${bound} (${label})`,
    owned.reduce((a, b) => a + b, 0) === N && Math.max(...owned) <= bound,
    `owned ${owned.join(' + ')} = ${owned.reduce((a, b) => a + b, 0)} of ${N}`,
  );
  const perInterval = m.providerRequests / m.intervals;
  target(
    `provider requests = distinct queries, per replica (${label})`,
    perInterval <= m.distinctQueries * m.each.length,
    `${perInterval.toFixed(1)} requests per interval against ${m.distinctQueries} distinct queries on each of ${m.each.length} replicas (each keeps its own cache)`,
  );
  const stall = Math.max(...m.each.map((r) => r.stallMs));
  target(
    `longest event-loop stall ≤ 25 ms on every replica (${label})`,
    stall <= 25,
    `${stall.toFixed(1)} ms at most, at 1 ms resolution (load average ${loadavg()[0].toFixed(2)} on ${cpus().length} cores)`,
  );
  return all;
}

/**
 * BENCH_REPLICAS=R: R replicas with `--shards auto` (bench/replicas.mjs) take the policies over; the
 * idle and progressing windows, the detection and the RSS (a function of the policies each replica
 * watches: all of them) are measured on them, per replica.
 */
async function runReplicated(kc, sandbox, provider) {
  const t1 = Date.now();
  const replicas = await startReplicas(sandbox.kubeconfig, NS, REPLICAS, await shippedCommand());
  try {
    await until(async () => (await phases(kc)).Idle === N, 900_000, 'every policy adopted');
    console.log(
      `adopted ${N} by ${REPLICAS} replicas in ${((Date.now() - t1) / 1000).toFixed(1)} s (\`${replicas.command}\`)`,
    );
    await new Promise((r) => setTimeout(r, INTERVAL_S * 1000));
    const idle = await measureReplicas(replicas, provider, IDLE_WINDOW_S);
    const idleAll = reportReplicas('idle', idle);
    target(
      '0 API writes for idle policies (the membership Leases apart)',
      idleAll.writes === 0,
      `${idleAll.writes} writes in ${idleAll.ticks.length} ticks`,
    );
    await startCanaries(kc);
    await new Promise((r) => setTimeout(r, 2 * INTERVAL_S * 1000));
    const progressing = await measureReplicas(replicas, provider, WINDOW_S, () => {
      provider.state.value = '0.02';
    });
    const busy = reportReplicas('progressing', progressing);
    target(
      '≤ 1 status write per tick, only when something shown changed (progressing)',
      busy.writes <= N && busy.writes <= busy.ticks.length,
      `${busy.writes} writes in ${busy.ticks.length} ticks for ${N} shown changes (one value change per policy)`,
    );
    // Every replica watches every policy and its objects (`--shards auto` cannot filter a hash on the server;
    // docs/sharding.md), so its RSS is measured against the policies it watches, not the ones it owns.
    const rss = progressing.each.map((r) => ({ max: r.rssMax, target: 120 + (56 * N) / 1024 }));
    target(
      "every replica's RSS ≤ 120 MiB + 56 KiB a policy it watches (all N, progressing)",
      rss.every((r) => r.max <= r.target),
      rss.map((r) => `${r.max.toFixed(0)} of ${r.target.toFixed(0)} MiB`).join(', '),
    );
    await detection(kc, provider);
    console.log(
      `\nBENCH_REPLICAS=${REPLICAS}, ${N} policies: per replica ${idleAll.meanCpuMsPerTick.toFixed(2)} ms of CPU a tick idle (${idleAll.meanCorePercent.toFixed(1)} % of a core), ${busy.meanCpuMsPerTick.toFixed(2)} ms progressing (${busy.meanCorePercent.toFixed(1)} % of a core); owned ${progressing.each.map((r) => r.owned).join('/')}`,
    );
  } finally {
    await replicas.stop();
  }
}

export async function run() {
  const sandbox = await startSandboxProcess();
  const provider = await startProvider();
  const kc = benchClients(sandbox.kubeconfig);
  const config = kc.config;
  const rec = tickRecorder();
  console.log(
    `${N} policies at ${INTERVAL_S} s intervals, ${DISTINCT_QUERIES} distinct queries and one that breaches for 1 % of them; ${new Date().toISOString()}, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}, ${cpus().length} cores`,
  );
  try {
    const t0 = Date.now();
    await populate(kc, provider, N, (i) => (breaches(i) ? BREACH_QUERY : queryOf(i)));
    const hpas = Array.from({ length: N }, (_, i) => i).filter(autoscaled).length;
    console.log(
      `populated ${N} Deployments and policies (${hpas} of them autoscaled by an HPA) in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
    if (REPLICAS) {
      await runReplicated(kc, sandbox, provider);
      return printOutcome();
    }
    const start = () =>
      startOperator({ kubeConfig: config, reconcilerFactory: rec.factory, logger: createLogger({ level: 'error' }) });
    let operator = await start();
    const t1 = Date.now();
    await until(async () => (await phases(kc)).Idle === N, 900_000, 'every policy adopted');
    console.log(`adopted ${N} in ${((Date.now() - t1) / 1000).toFixed(1)} s`);
    await new Promise((r) => setTimeout(r, INTERVAL_S * 1000));
    const idle = await measure(rec, operator, provider, IDLE_WINDOW_S);
    report('idle', idle);
    target('0 API writes for idle policies', idle.writes === 0, `${idle.writes} writes in ${idle.ticks.length} ticks`);
    await operator.stop();
    const shippedIdle = await controllerProcess(sandbox.kubeconfig, await shippedCommand(), () => undefined);
    stallTarget('idle', shippedIdle);
    operator = await start();

    await startCanaries(kc);
    // Two intervals: every check has been shown once in status, and the caches have caught up.
    await new Promise((r) => setTimeout(r, 2 * INTERVAL_S * 1000));
    // Half-way, every check's value changes once: each policy shows it once (one write), then holds again (none).
    const progressing = await measure(rec, operator, provider, WINDOW_S, () => {
      provider.state.value = '0.02';
    });
    report('progressing', progressing);
    target(
      '≤ 1 status write per tick, only when something shown changed (progressing)',
      progressing.writes <= N && progressing.writes <= progressing.ticks.length,
      `${progressing.writes} writes in ${progressing.ticks.length} ticks for ${N} shown changes (one value change per policy)`,
    );
    await detection(kc, provider);
    gc();
    console.log(
      `this process after a full GC (controller and bench together): RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB, ${memoryBreakdown()}`,
    );
    await operator.stop();
    let value = 0.02;
    const change = () => {
      value += 0.001;
      provider.state.value = value.toFixed(3);
    };
    const own = await controllerProcess(sandbox.kubeconfig, await shippedCommand(), change);
    // BENCH_COMPARE_FLAGS="A|B": the same measurement with other tokens, for comparison only ("none": Node's defaults).
    for (const other of (process.env.BENCH_COMPARE_FLAGS ?? '').split('|').filter(Boolean)) {
      const m = await controllerProcess(
        sandbox.kubeconfig,
        other === 'none' ? [] : other.split(' ').filter(Boolean),
        change,
      );
      console.log(`compare: ${describeRss(m)}`);
    }
    target(
      `controller RSS ≤ 120 MiB + 56 KiB a policy (${RSS_TARGET_MIB.toFixed(0)} MiB)`,
      own.max <= RSS_TARGET_MIB,
      `${describeRss(own)} (${(((own.max - 120) * 1024) / N).toFixed(1)} KiB a policy above 120 MiB); on its own, ${N - Math.ceil(N / 100)} policies progressing and ${Math.ceil(N / 100)} rolled back, no forced GC`,
    );
    stallTarget('progressing, every check changing half-way', own);
    printOutcome();
  } finally {
    await provider.close();
    await sandbox.stop();
  }
}
