import { hostname } from 'node:os';
import type { KubeConfig } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../../lib/clock/clock.js';
import { createLogger } from '../../lib/log/logger.js';
import { nullRecorder } from '../../pipeline/record/fanout.js';
import type { Recorder } from '../../pipeline/record/recorder.js';
import { ObservedKubeConfig } from '../../adapters/kube/requests.js';
import { Controller, intervalMs } from './controller.js';
import type { OperatorDeps } from './deps.js';
import { parseAddress, serveHealth, serveMetrics, type Check, type RunningServer } from './http.js';
import { InformerCache } from './informer-cache.js';
import { createInformers, informerList } from './informers.js';
import type { SupervisionOptions } from './informer.js';
import { LeaderElector } from './leader.js';
import { OperatorMetrics } from './telemetry.js';
import { WorkQueue } from './queue.js';
import type { Reconciler } from './reconciler.js';
import { kubeClients, type KubeClients } from '../../adapters/kube/clients.js';
import type { PolicyObject } from '../../adapters/kube/cache.js';
import type { PolicyKey } from '../../adapters/kube/names.js';
import { labelSelectorOf, matchesSelector } from './object-index.js';
import { ShardMembership, shardedReconciler } from './shards.js';
import { markStale } from './stale.js';
import { KubeClient } from '../../adapters/kube/client.js';

/** Tuning that tests and the benchmark set; the defaults are the documented ones. */
export interface OperatorTuning {
  maxInFlight?: number;
  watchTimeoutSeconds?: number;
  silentAfterMs?: number;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /** How long a shutdown waits for the reconciles in flight (default 30 s). */
  shutdownGraceMs?: number;
  relatedDelayMs?: number;
  backoffMaxMs?: number;
}

export interface OperatorOptions {
  kubeConfig: KubeConfig;
  /** Watch and act in this namespace only (default: all). */
  namespace?: string;
  clock?: Clock;
  logger?: Logger;
  /** Act only while holding the Lease (default false: act at once). */
  leaderElect?: boolean;
  /** Where the Lease lives (default: `namespace`, else `default`). */
  leaseNamespace?: string;
  /** `--shards auto`: every replica holds a membership Lease and acts on its share of the policies. */
  shards?: boolean;
  /** `--shard-selector`: only the policies carrying these labels are considered (static shards). */
  shardSelector?: Record<string, string>;
  /** `[HOST]:PORT` of /metrics (default 127.0.0.1:0: a free loopback port). */
  metricsAddr?: string;
  /** `[HOST]:PORT` of /healthz and /readyz (default 127.0.0.1:0). */
  healthAddr?: string;
  allowedHosts?: readonly string[];
  /** How long a read provider Secret is reused (default 30 s). */
  secretTtlMs?: number;
  /** In Events, records and the Lease (default: host name and pid; in a pod the host name is the pod's name). */
  identity?: string;
  reconcilerFactory(deps: OperatorDeps): Reconciler;
  /** Where records are stored before they are acted on (default: nowhere; the tick logs each one either way). */
  recorder?: Recorder;
  /** More metrics served on /metrics beside the operator's own (the recorder's notifications). */
  registries?: Registry[];
  tuning?: OperatorTuning;
}

export interface RunningOperator {
  metricsPort: number;
  healthPort: number;
  isLeader(): boolean;
  ready(): boolean;
  /** Finishes the reconciles in flight, releases the Lease, stops the informers and servers. */
  stop(): Promise<void>;
}

interface Parts {
  metrics: OperatorMetrics;
  cache: InformerCache;
  queue: WorkQueue;
  controller: Controller;
  elector: LeaderElector | null;
  shards: ShardMembership | null;
}

function build(options: OperatorOptions, clock: Clock, logger: Logger, identity: string): Parts {
  const tuning = options.tuning ?? {};
  const parts = {} as Parts;
  const leader = (): boolean => (parts.elector ? parts.elector.isLeader() : true);
  parts.metrics = new OperatorMetrics({
    informers: () =>
      informerList(parts.cache.informers).map((i) => ({ name: i.spec.name, staleMs: i.staleMs(), synced: i.synced() })),
    isLeader: leader,
    queue: () => ({ policies: parts.queue.size, inFlight: parts.queue.inFlight }),
    ...(options.shards ? { shards: () => parts.shards?.counts() ?? { owned: 0, unowned: 0, multiOwned: 0 } } : {}),
  });
  const kubeConfig = new ObservedKubeConfig(options.kubeConfig, (verb, code) => parts.metrics.apiRequest(verb, code));
  const supervision = {
    kubeConfig,
    clock,
    logger,
    observer: (verb: string, code: string) => parts.metrics.apiRequest(verb, code),
    watchTimeoutSeconds: tuning.watchTimeoutSeconds,
    silentAfterMs: tuning.silentAfterMs,
  };
  const clients = kubeClients(kubeConfig);
  parts.cache = informerCache(options, clients, supervision);
  const recorder = options.recorder ?? nullRecorder;
  const deps: OperatorDeps = {
    cache: parts.cache,
    clients,
    clock,
    logger,
    recorder,
    observer: parts.metrics,
    identity,
    allowedHosts: options.allowedHosts,
    ...(options.secretTtlMs === undefined ? {} : { secretTtlMs: options.secretTtlMs }),
  };
  parts.shards = options.shards ? membership(options, clients, parts, { clock, logger, identity }) : null;
  parts.queue = new WorkQueue({
    clock,
    logger,
    reconciler: reconcilerOf(options, deps, parts),
    maxInFlight: tuning.maxInFlight,
    backoffMaxMs: tuning.backoffMaxMs,
    intervalOf: (key) => intervalMs(parts.cache.policy(key)),
    onDone: (_key, outcome, durationMs) => parts.metrics.reconciled(outcome, durationMs),
  });
  parts.controller = new Controller({
    cache: parts.cache,
    queue: parts.queue,
    clock,
    logger,
    observer: parts.metrics,
    relatedDelayMs: tuning.relatedDelayMs,
    recorder,
  });
  parts.elector =
    options.leaderElect && !options.shards
      ? elector(options, clients, parts, { clock, logger, identity, leader })
      : null;
  return parts;
}

/** The informers' cache; with --shard-selector the API server sends only the policies it selects. */
function informerCache(options: OperatorOptions, clients: KubeClients, supervision: SupervisionOptions): InformerCache {
  const policySelector = options.shardSelector && labelSelectorOf(options.shardSelector);
  return new InformerCache(createInformers(clients, options.namespace, supervision, policySelector));
}

/** The tick, behind the shard gate with `--shards auto`; the policies a --shard-selector excludes never tick. */
function reconcilerOf(options: OperatorOptions, deps: OperatorDeps, parts: Parts): Reconciler {
  const inner = options.reconcilerFactory(deps);
  const selector = options.shardSelector;
  const selected = (key: PolicyKey): PolicyObject | undefined => {
    const policy = parts.cache.policy(key);
    return policy && (!selector || matchesSelector(policy, selector)) ? policy : undefined;
  };
  if (!options.shards && !selector) return inner;
  if (!options.shards)
    return {
      forget: (key) => inner.forget(key),
      reconcile: async (key, signal) => (selected(key) ? inner.reconcile(key, signal) : { requeueAfterMs: null }),
    };
  const retryMs = options.tuning?.retryPeriodMs ?? 2000;
  const shards = parts.shards;
  if (!shards) throw new Error('shard membership is made before the queue');
  // the write fence (src/runtime/tick/fence.ts): a tick writes only while this replica holds its claim on the policy
  deps.fence = shards;
  return shardedReconciler(inner, shards, (key) => selected(key)?.metadata?.uid, retryMs);
}

/** The membership Lease of `--shards auto`: a new view re-adds every policy to the queue. */
function membership(
  options: OperatorOptions,
  clients: KubeClients,
  parts: Parts,
  own: { clock: Clock; logger: Logger; identity: string },
): ShardMembership {
  const tuning = options.tuning ?? {};
  const selector = options.shardSelector;
  return new ShardMembership({
    leases: clients.coordination,
    ...own,
    namespace: options.leaseNamespace ?? options.namespace ?? 'default',
    leaseDurationMs: tuning.leaseDurationMs,
    renewDeadlineMs: tuning.renewDeadlineMs,
    retryPeriodMs: tuning.retryPeriodMs,
    policies: () =>
      parts.cache.synced()
        ? parts.cache.allPolicies().flatMap((key) => {
            const policy = parts.cache.policy(key);
            const uid = policy?.metadata?.uid;
            return uid && (!selector || matchesSelector(policy, selector)) ? [uid] : [];
          })
        : [],
    onChange: () => {
      for (const key of parts.cache.allPolicies()) parts.queue.add(key, 0, false);
    },
    ready: () => parts.cache.synced(),
    onStale: staleMarker(parts, new KubeClient(clients), { ...own, leaseMs: tuning.leaseDurationMs ?? 15_000 }),
  });
}

/** Writes `Stale=True` on the policies nobody could act on for a lease duration, one batch at a time. */
function staleMarker(
  parts: Parts,
  kube: KubeClient,
  own: { clock: Clock; logger: Logger; leaseMs: number },
): (uids: string[]) => void {
  let writing: Promise<unknown> | null = null;
  return (uids) => {
    if (writing) return;
    const wanted = new Set(uids);
    const keys = parts.cache.allPolicies().filter((key) => wanted.has(parts.cache.policy(key)?.metadata?.uid ?? ''));
    const marking = { kube, ...own, cached: (key: PolicyKey) => parts.cache.policy(key) };
    writing = markStale(marking, keys).finally(() => (writing = null));
  };
}

/** Leader election on the Lease (--leader-elect): the controller acts only while it holds it. */
function elector(
  options: OperatorOptions,
  clients: KubeClients,
  parts: Parts,
  own: { clock: Clock; logger: Logger; identity: string; leader: () => boolean },
): LeaderElector {
  const tuning = options.tuning ?? {};
  return new LeaderElector({
    leases: clients.coordination,
    clock: own.clock,
    logger: own.logger,
    identity: own.identity,
    namespace: options.leaseNamespace ?? options.namespace ?? 'default',
    leaseDurationMs: tuning.leaseDurationMs,
    renewDeadlineMs: tuning.renewDeadlineMs,
    retryPeriodMs: tuning.retryPeriodMs,
    onStartedLeading: () => void parts.controller.activate(own.leader, own.identity),
    onStoppedLeading: (reason) => parts.controller.deactivate(`lost leadership: ${reason}`),
  });
}

function healthChecks(parts: Parts): { live(): Check[]; ready(): Check[] } {
  return {
    live: () => [{ name: 'dispatcher', ok: true }],
    ready: () => [
      ...informerList(parts.cache.informers).map((i) => ({ name: `informer-${i.spec.name}`, ok: i.synced() })),
      { name: 'leader-election', ok: parts.elector ? parts.elector.healthy() : true },
    ],
  };
}

/** The operator's metrics, and any others the caller serves beside them. */
function servedRegistry(own: Registry, more: Registry[] | undefined): Registry {
  return more?.length ? Registry.merge([own, ...more]) : own;
}

/** Starts the operator: informers, the work queue, leader election (when asked), /metrics, /healthz and /readyz. */
export async function startOperator(options: OperatorOptions): Promise<RunningOperator> {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger();
  const identity = options.identity ?? `${hostname()}_${process.pid}`;
  const parts = build(options, clock, logger, identity);
  const health = healthChecks(parts);
  const servers: RunningServer[] = [];
  try {
    servers.push(
      await serveMetrics(
        parseAddress(options.metricsAddr ?? '127.0.0.1:0', 'metrics address'),
        servedRegistry(parts.metrics.registry, options.registries),
      ),
    );
    servers.push(await serveHealth(parseAddress(options.healthAddr ?? '127.0.0.1:0', 'health address'), health));
  } catch (error) {
    await Promise.all(servers.map((s) => s.close()));
    throw error;
  }
  const [metricsServer, healthServer] = servers as [RunningServer, RunningServer];
  logger.info(
    {
      metricsPort: metricsServer.port,
      healthPort: healthServer.port,
      namespace: options.namespace ?? '(all)',
      leaderElect: options.leaderElect ?? false,
      identity,
    },
    'kubestead operator started',
  );
  for (const informer of informerList(parts.cache.informers)) informer.start();
  const dispatching = parts.queue.run();
  parts.shards?.start();
  if (parts.elector) parts.elector.start();
  else void parts.controller.activate(() => true);
  return {
    metricsPort: metricsServer.port,
    healthPort: healthServer.port,
    isLeader: () => (parts.elector ? parts.elector.isLeader() : true),
    ready: () => health.ready().every((c) => c.ok),
    stop: async () => {
      parts.controller.stopActivating();
      await parts.queue.drain(options.tuning?.shutdownGraceMs ?? 30_000, new Error('operator shutting down'));
      await dispatching;
      await parts.elector?.stop();
      await parts.shards?.stop();
      await Promise.all(informerList(parts.cache.informers).map((i) => i.stop()));
      await Promise.all(servers.map((s) => s.close()));
      logger.info({ identity }, 'kubestead operator stopped');
    },
  };
}
