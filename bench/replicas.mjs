// `BENCH_REPLICAS=N npm run bench -- controller`: N controller replicas with `--shards auto` on one
// sandbox, each a process of its own (bench/replica.mjs) with the image's node flags, so that each
// one's CPU, memory and event-loop stalls are its own. A window measures, per replica, the policies
// it owns (kubestead_owned_policies), its ticks (every one recorded, as the one-replica bench
// records them), its CPU from /proc, its API requests, its writes (to its Lease apart), its RSS
// sampled every second and its longest event-loop stall (bench/loop-probe.mjs, 1 ms resolution).
import { fork } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { alignToInterval, apiCounts, cpuMsOf, INTERVAL_S, procStatus } from './fleet.mjs';
import { forwardWarnings, percentile, ROOT } from './support.mjs';

/** Sends `message` to a replica; its next answer that has `field`. */
const ask = (child, message, field) => {
  const answer = next(child, field);
  child.send(message);
  return answer;
};

/** The next message from a replica that has `field`. */
const next = (child, field) =>
  new Promise((done, fail) => {
    const onMessage = (message) => {
      if (message?.[field] === undefined) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      done(message);
    };
    const onExit = (code) => fail(new Error(`a bench replica exited ${code} before answering`));
    child.on('message', onMessage);
    child.on('exit', onExit);
  });

async function metric(port, name) {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
}

/**
 * Forks `count` replicas against the sandbox, their membership Leases in `leaseNamespace`, each run
 * with `command` (the image's `VAR=value` and `--flag` tokens: bench/image.mjs) and the loop probe.
 */
export async function startReplicas(kubeconfig, leaseNamespace, count, command) {
  const dir = await mkdtemp(join(tmpdir(), 'kubestead-replicas-'));
  const env = { ...process.env };
  const flags = command.filter((token) => {
    const assignment = /^([A-Z_]+)=(.*)$/.exec(token);
    if (assignment) env[assignment[1]] = assignment[2];
    return !assignment;
  });
  const list = await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const probeFile = join(dir, `stalls-${i}`);
      const child = fork(join(ROOT, 'bench/replica.mjs'), [kubeconfig, leaseNamespace], {
        execArgv: [...flags, '--import', pathToFileURL(join(ROOT, 'bench/loop-probe.mjs')).href],
        env: { ...env, BENCH_LOOP_PROBE_FILE: probeFile },
        stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
      });
      forwardWarnings(child.stderr, `replica ${i + 1}/${count}`);
      const { metricsPort } = await next(child, 'metricsPort');
      return { child, pid: child.pid, metricsPort, probeFile };
    }),
  );
  return {
    list,
    command: [...command.filter((t) => !flags.includes(t)), 'node', ...flags].join(' '),
    owned: () => Promise.all(list.map((r) => metric(r.metricsPort, 'kubestead_owned_policies'))),
    stop: async () => {
      await Promise.all(
        list.map(async ({ child }) => {
          if (child.exitCode !== null) return;
          const exited = new Promise((r) => child.on('exit', r));
          child.kill('SIGTERM');
          await exited;
        }),
      );
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The longest stall a replica's probe wrote between `from` and `to` (epoch ms). */
async function stallOf(probeFile, from, to) {
  const stalls = (await readFile(probeFile, 'utf8'))
    .trim()
    .split('\n')
    .map((line) => line.split(' ').map(Number))
    .filter(([at]) => at > from && at <= to)
    .map(([, ms]) => ms);
  return Math.max(...stalls);
}

/** Each replica's counters now: API requests (from its /metrics) and CPU (from /proc). */
const counters = (replicas) =>
  Promise.all(replicas.list.map(async (r) => ({ api: await apiCounts(r.metricsPort), cpuMs: await cpuMsOf(r.pid) })));

/**
 * One window of `seconds` (whole intervals, aligned as the one-replica bench aligns them) over every
 * replica; `during` runs at its middle. Per replica, and the provider's requests over all of them.
 */
export async function measureReplicas(replicas, provider, seconds, during) {
  await alignToInterval();
  const start = Date.now();
  const before = await counters(replicas);
  provider.state.requests = 0;
  provider.state.queries.clear();
  await Promise.all(replicas.list.map((r) => ask(r.child, 'start', 'started')));
  const rss = replicas.list.map(() => []);
  let half = false;
  while (Date.now() < start + seconds * 1000 - 1150) {
    if (!half && Date.now() >= start + (seconds * 1000) / 2) {
      half = true;
      during?.();
    }
    await Promise.all(replicas.list.map(async (r, i) => rss[i].push(await procStatus(r.pid, 'VmRSS'))));
    await new Promise((r) => setTimeout(r, 1000));
  }
  await new Promise((r) => setTimeout(r, Math.max(0, start + seconds * 1000 - 150 - Date.now())));
  const windows = await Promise.all(replicas.list.map((r) => ask(r.child, 'stop', 'ticks')));
  const after = await counters(replicas);
  const end = Date.now();
  const owned = await replicas.owned();
  const each = await Promise.all(
    replicas.list.map(async (r, i) => ({
      ...windows[i],
      owned: owned[i],
      cpuMs: after[i].cpuMs - before[i].cpuMs,
      requests: after[i].api.all - before[i].api.all,
      rssMax: Math.max(...rss[i]),
      stallMs: await stallOf(r.probeFile, start, end),
    })),
  );
  return {
    each,
    seconds,
    intervals: seconds / INTERVAL_S,
    providerRequests: provider.state.requests,
    distinctQueries: provider.state.queries.size,
  };
}

/** What every replica's window adds up to: ticks, policies ticked (and by two replicas), writes, CPU a tick. */
export function summarize(m) {
  const seen = new Map();
  for (const r of m.each) for (const id of r.ticked) seen.set(id, (seen.get(id) ?? 0) + 1);
  const ticks = m.each.flatMap((r) => r.ticks);
  const perReplica = m.each.map((r) => r.cpuMs / r.ticks.length);
  return {
    ticks,
    gaps: m.each.flatMap((r) => r.gaps),
    ticked: seen.size,
    tickedTwice: [...seen.values()].filter((n) => n > 1).length,
    writes: m.each.reduce((sum, r) => sum + r.writes, 0),
    meanCpuMsPerTick: perReplica.reduce((a, b) => a + b, 0) / perReplica.length,
    meanCorePercent: m.each.reduce((sum, r) => sum + (100 * r.cpuMs) / (m.seconds * 1000), 0) / m.each.length,
  };
}

/** One line a replica: what it owns, its ticks, CPU, requests, writes, RSS and stall over the window. */
export function describeReplica(r, i, m) {
  return `replica ${i + 1}/${m.each.length}: owns ${r.owned}; ${r.ticks.length} ticks (p50 ${percentile(r.ticks, 0.5).toFixed(1)} ms, p99 ${percentile(r.ticks, 0.99).toFixed(1)} ms); CPU ${(r.cpuMs / r.ticks.length).toFixed(2)} ms a tick, ${((100 * r.cpuMs) / (m.seconds * 1000)).toFixed(0)} % of a core; ${(r.requests / r.ticks.length).toFixed(2)} API requests a tick; writes ${r.writes} (and ${r.leaseWrites} to its Lease); RSS ≤ ${r.rssMax.toFixed(0)} MiB; longest event-loop stall ${r.stallMs.toFixed(1)} ms`;
}
