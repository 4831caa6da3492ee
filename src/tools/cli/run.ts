import { readFileSync } from 'node:fs';
import type { KubeConfig } from '@kubernetes/client-node';
import { systemClock } from '../../lib/clock/clock.js';
import type { OperatorDeps } from '../../runtime/controller/deps.js';
import { parseAddress } from '../../runtime/controller/http.js';
import { parseShardSelector } from '../../runtime/controller/shard-assignment.js';
import type { Reconciler } from '../../runtime/controller/reconciler.js';
import type { TickOptions } from '../../runtime/tick/index.js';
import type { Destination } from '../../pipeline/record/audit/webhook/destination.js';
import { createLogger } from '../../lib/log/logger.js';
import type { Logger } from 'pino';
import type { TickReadings } from '../../runtime/tick/readings.js';
import type { ReportEnricher } from '../../pipeline/record/audit/report/build.js';
import type { OptionSpecs, ParsedArgs } from './args.js';
import { defineCommand } from './define.js';
import { backlogLimitFromFlags, WEBHOOK_OPTIONS, webhookFromFlags } from './run-webhook.js';
import { NOTIFY_OPTIONS, notifyDefaultsFromFlags } from './run-notify.js';
import { LEASE_OPTIONS, leaseTimingFromFlags, type LeaseTiming } from './run-lease.js';
import type { NotifyDestination } from '../../pipeline/record/notify/destination.js';
import { UsageError } from './usage-error.js';
import { parseDuration } from '../../pipeline/policy/duration.js';

const DESCRIPTION = `Runs the operator: watches RolloutPolicies and the Deployments they target, and runs a canary
whenever a target's pod template changes. With no flags it uses the current kubeconfig (in a pod:
the in-cluster service account) and watches all namespaces. Stops cleanly on SIGTERM or Ctrl-C:
the ticks in flight finish and the Lease is released. The first log line says which ports
/metrics and the health endpoints listen on.`;

export const RUN_OPTIONS = {
  namespace: {
    type: 'string',
    short: 'n',
    value: 'NS',
    description: 'watch and act in this namespace only (default: all)',
  },
  'metrics-addr': {
    type: 'string',
    value: 'ADDR',
    description: '[HOST]:PORT of /metrics (default :8080; port 0 picks a free one)',
  },
  'health-addr': {
    type: 'string',
    value: 'ADDR',
    description: '[HOST]:PORT of /healthz and /readyz (default :8081; port 0 picks a free one)',
  },
  'leader-elect': {
    type: 'boolean',
    description: 'act only while holding the Lease kubestead-controller (several replicas)',
  },
  'lease-namespace': {
    type: 'string',
    value: 'NS',
    description: "where that Lease lives (default: the pod's namespace, else --namespace, else default)",
  },
  ...LEASE_OPTIONS,
  shards: {
    type: 'string',
    value: 'MODE',
    description:
      'auto: every replica holds a membership Lease and acts on its share of the policies (docs/sharding.md)',
  },
  'shard-selector': {
    type: 'string',
    value: 'LABELS',
    description: 'consider only the policies with these labels (LABEL=VALUE[,…]: static shards)',
  },
  'allowed-hosts': {
    type: 'string',
    value: 'HOSTS',
    description: 'comma-separated metric provider hosts the operator may query (default: any but link-local)',
  },
  'secret-ttl': {
    type: 'string',
    value: 'DURATION',
    description: 'how long a read provider Secret is reused: a rotation is seen within it (default 30s)',
  },
  'dashboard-addr': {
    type: 'string',
    value: 'ADDR',
    description: '[HOST]:PORT of the read-only dashboard, each request with a bearer token (default: none)',
  },
  'log-level': { type: 'string', value: 'LEVEL', description: 'trace, debug, info (default), warn, error' },
  'audit-file': { type: 'string', value: 'FILE', description: 'also append every audit entry to this JSON Lines file' },
  kubeconfig: {
    type: 'string',
    value: 'PATH',
    description: 'a kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or in-cluster)',
  },
  ...WEBHOOK_OPTIONS,
  ...NOTIFY_OPTIONS,
} as const satisfies OptionSpecs;

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];
const SERVICE_ACCOUNT_NAMESPACE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

export interface RunArgs {
  namespace?: string;
  metricsAddr: string;
  healthAddr: string;
  /** Where the dashboard listens (none without --dashboard-addr). */
  dashboardAddr?: string;
  leaderElect: boolean;
  leaseNamespace?: string;
  /** --lease-duration, --renew-deadline, --retry-period in ms (only those given). */
  leaseTiming: LeaseTiming;
  /** --shards auto. */
  shards: boolean;
  /** --shard-selector, parsed. */
  shardSelector?: Record<string, string>;
  allowedHosts?: string[];
  /** --secret-ttl in ms: how long a read provider Secret is reused. */
  secretTtlMs?: number;
  logLevel: string;
  kubeconfig?: string;
  auditFile?: string;
  /** The operator-wide SIEM destination (--audit-webhook …). */
  webhook?: Destination;
  /** Undelivered SIEM entries past which advance and promote are refused (--audit-backlog-limit). */
  backlogLimit?: number;
  /** The operator-wide notification destinations (--notify-slack …), for policies without their own. */
  notify: NotifyDestination[];
}

/** --metrics-addr, --health-addr and --dashboard-addr are [HOST]:PORT. */
function checkAddresses(out: RunArgs): void {
  for (const [flag, text] of [
    ['--metrics-addr', out.metricsAddr],
    ['--health-addr', out.healthAddr],
    ...(out.dashboardAddr === undefined ? [] : [['--dashboard-addr', out.dashboardAddr] as const]),
  ] as const) {
    try {
      parseAddress(text, flag);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
  }
}

/** --shards (only `auto`) and --shard-selector LABEL=VALUE[,…]. */
function shardFlags(
  mode: string | undefined,
  selector: string | undefined,
): { shards: boolean; shardSelector?: Record<string, string> } {
  if (mode !== undefined && mode !== 'auto')
    throw new UsageError(`--shards: expected auto, got ${JSON.stringify(mode)}`);
  try {
    return {
      shards: mode === 'auto',
      ...(selector !== undefined ? { shardSelector: parseShardSelector(selector) } : {}),
    };
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** --secret-ttl: a positive duration (`30s`, `500ms`). */
function secretTtlFlag(text: string | undefined): { secretTtlMs?: number } {
  if (text === undefined) return {};
  const seconds = parseDuration(text);
  if (seconds === null || seconds <= 0)
    throw new UsageError(`--secret-ttl: expected a positive duration like 30s, got ${JSON.stringify(text)}`);
  return { secretTtlMs: seconds * 1000 };
}

export function parseRunArgs({ values, positionals }: ParsedArgs<typeof RUN_OPTIONS>): RunArgs {
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  const out: RunArgs = {
    namespace: values.namespace,
    metricsAddr: values['metrics-addr'] ?? ':8080',
    healthAddr: values['health-addr'] ?? ':8081',
    dashboardAddr: values['dashboard-addr'],
    leaderElect: values['leader-elect'] ?? false,
    leaseNamespace: values['lease-namespace'],
    leaseTiming: leaseTimingFromFlags(values),
    ...shardFlags(values.shards, values['shard-selector']),
    logLevel: values['log-level'] ?? 'info',
    kubeconfig: values.kubeconfig,
    auditFile: values['audit-file'],
    allowedHosts: values['allowed-hosts']
      ?.split(',')
      .map((h) => h.trim())
      .filter(Boolean),
    ...secretTtlFlag(values['secret-ttl']),
    webhook: webhookFromFlags(values),
    backlogLimit: backlogLimitFromFlags(values),
    notify: notifyDefaultsFromFlags(values),
  };
  checkAddresses(out);
  if (!LEVELS.includes(out.logLevel))
    throw new UsageError(`--log-level: expected one of ${LEVELS.join(', ')}, got ${JSON.stringify(out.logLevel)}`);
  if (out.allowedHosts?.length === 0) throw new UsageError('--allowed-hosts: expected at least one host');
  return out;
}

async function loadKubeConfig(path: string | undefined): Promise<KubeConfig> {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const { reuseAgents } = await import('../../adapters/kube/requests.js');
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromDefault();
  if (!kc.getCurrentCluster()) throw new Error('no cluster: set --kubeconfig or $KUBECONFIG, or run in a pod');
  reuseAgents(kc); // the audit recorder's clients too: a TLS handshake per request costs CPU and memory
  return kc;
}

function podNamespace(): string | undefined {
  try {
    return readFileSync(SERVICE_ACCOUNT_NAMESPACE, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((done) => {
    process.once('SIGINT', () => done('SIGINT'));
    process.once('SIGTERM', () => done('SIGTERM'));
  });
}

/** Rollback reports get every tick's values and the history before the rollout (range queries, SSRF rules applied). */
async function reportEnricherFor(
  kubeConfig: KubeConfig,
  readings: TickReadings,
  options: RunArgs,
  logger: Logger,
): Promise<ReportEnricher> {
  const [{ reportEnricher }, { HttpClient }, { kubeClients }, { kubernetesSecretReader }] = await Promise.all([
    import('../../runtime/tick/report-context.js'),
    import('../../adapters/providers/http.js'),
    import('../../adapters/kube/clients.js'),
    import('../../adapters/secrets/kubernetes.js'),
  ]);
  const clients = kubeClients(kubeConfig);
  return reportEnricher({
    readings,
    clients,
    http: new HttpClient({ allowedHosts: options.allowedHosts, clock: systemClock }),
    secrets: kubernetesSecretReader(clients, { clock: systemClock }),
    logger,
  });
}

/**
 * `--dashboard-addr`: the dashboard's pages in the cluster, over the operator's namespace (or all),
 * every request with a bearer token checked by TokenReview and SubjectAccessReview.
 */
async function startClusterDashboard(
  kubeConfig: KubeConfig,
  options: RunArgs,
  logger: Logger,
): Promise<() => Promise<void>> {
  if (options.dashboardAddr === undefined) return () => Promise.resolve();
  const [{ kubeClients }, { clusterSource }, { startDashboard }, { tokenAccess }] = await Promise.all([
    import('../../adapters/kube/clients.js'),
    import('../dashboard/source.js'),
    import('../dashboard/server.js'),
    import('../dashboard/access-token.js'),
  ]);
  const { host, port } = parseAddress(options.dashboardAddr, '--dashboard-addr');
  const clock = systemClock;
  const source = clusterSource({
    clients: kubeClients(kubeConfig),
    kubeConfig,
    namespace: options.namespace,
    clock,
    logger,
  });
  const access = tokenAccess({ kubeConfig, clock });
  const dashboard = await startDashboard({ source, access, clock, logger, host: host ?? '0.0.0.0', port });
  logger.info({ dashboardUrl: dashboard.url }, 'dashboard listening (read-only, bearer tokens)');
  return async () => {
    await dashboard.close();
    await source.close();
  };
}

export const runCommand = defineCommand({
  name: 'run',
  summary: 'run the operator (current kubeconfig, or in-cluster)',
  usage:
    '[-n NS] [--metrics-addr ADDR] [--health-addr ADDR] [--leader-elect] [--allowed-hosts HOSTS] [--log-level LEVEL]',
  description: DESCRIPTION,
  options: RUN_OPTIONS,
  exitCodes: ['0  stopped cleanly (SIGTERM or Ctrl-C)'],
  run: (args) => runOperator(args),
});

/**
 * `kubestead run` with the tick's options (an embedding program may pass its own, e.g. a hook at
 * the tick's boundaries; the command passes none). Runs until SIGTERM or SIGINT.
 */
export async function runOperator(args: ParsedArgs<typeof RUN_OPTIONS>, tick: TickOptions = {}): Promise<number> {
  const options = parseRunArgs(args);
  const logger = createLogger({ level: options.logLevel });
  const kubeConfig = await loadKubeConfig(options.kubeconfig);
  const { startOperator } = await import('../../runtime/controller/operator.js');
  const { createTickReconciler } = await import('../../runtime/tick/index.js');
  const { AuditRecorder } = await import('../../pipeline/record/audit/index.js');
  const { TickReadings } = await import('../../runtime/tick/readings.js');
  const { HttpClient } = await import('../../adapters/providers/http.js');
  const { NotificationMetrics } = await import('../../pipeline/record/notify/metrics.js');
  const notifyMetrics = new NotificationMetrics();
  const readings = tick.readings ?? new TickReadings();
  const reconcilerFactory = (deps: OperatorDeps): Reconciler => createTickReconciler(deps, { ...tick, readings });
  const recorder = new AuditRecorder(kubeConfig, systemClock, logger, {
    auditFile: options.auditFile,
    webhook: options.webhook,
    backlogLimit: options.backlogLimit,
    notifications: {
      defaults: options.notify,
      observe: notifyMetrics.observe,
      http: new HttpClient({ allowedHosts: options.allowedHosts, clock: systemClock }),
    },
    enrichReport: await reportEnricherFor(kubeConfig, readings, options, logger),
  });
  const operator = await startOperator({
    kubeConfig,
    logger,
    reconcilerFactory,
    recorder,
    registries: [notifyMetrics.registry],
    namespace: options.namespace,
    metricsAddr: options.metricsAddr,
    healthAddr: options.healthAddr,
    leaderElect: options.leaderElect,
    shards: options.shards,
    shardSelector: options.shardSelector,
    leaseNamespace: options.leaseNamespace ?? podNamespace() ?? options.namespace,
    allowedHosts: options.allowedHosts,
    secretTtlMs: options.secretTtlMs,
    tuning: options.leaseTiming,
  });
  const closeDashboard = await startClusterDashboard(kubeConfig, options, logger);
  const signal = await untilSignal();
  logger.info({ signal }, 'stopping: finishing the ticks in flight and releasing the lease');
  await closeDashboard();
  await operator.stop();
  await recorder.stop();
  return 0;
}
