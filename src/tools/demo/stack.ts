import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { AuditRecorder } from '../../pipeline/record/audit/index.js';
import type { Clock } from '../../lib/clock/clock.js';
import type { OperatorDeps } from '../../runtime/controller/deps.js';
import { startOperator, type RunningOperator } from '../../runtime/controller/operator.js';
import type { Reconciler } from '../../runtime/controller/reconciler.js';
import { createLogger } from '../../lib/log/logger.js';
import { loadPolicyFile } from '../../pipeline/policy/load.js';
import type { RolloutPolicy } from '../../pipeline/policy/schema.js';
import { createTickReconciler } from '../../runtime/tick/index.js';
import { ShopTraffic } from './exporter.js';
import { startShopExporter } from './exporter-server.js';
import type { LocalServer } from './http.js';
import { startMetricsSource, type MetricsSource } from './prometheus.js';
import { createShop, DEMO_POLICY_FILE, installPolicyCrd } from './shop-cluster.js';

/** The cluster the demo runs in (the sandbox; started by the CLI, the one place that may import it). */
export interface DemoCluster {
  url: string;
  kubeConfig(): KubeConfig;
  close(): Promise<void>;
}

/** The files the demo leaves behind in its temporary folder. */
export interface DemoFiles {
  dir: string;
  kubeconfig: string;
  auditLog: string;
  controllerLog: string;
}

/** Everything the demo runs in-process, and how to stop each part. */
export interface DemoStack {
  files: DemoFiles;
  cluster: DemoCluster;
  kubeConfig: KubeConfig;
  traffic: ShopTraffic;
  exporter: LocalServer;
  metrics: MetricsSource;
  /** The demo policy as the schema reads it (with its defaults). */
  policy: RolloutPolicy;
  /** Stops the controller and its audit recorder (the audit file is complete after it). */
  stopController(): Promise<void>;
  /** Stops everything still running. */
  close(): Promise<void>;
}

async function demoPolicy(): Promise<RolloutPolicy> {
  const { policies, errors } = await loadPolicyFile(DEMO_POLICY_FILE);
  const policy = policies[0]?.policy;
  if (errors.length || !policy)
    throw new Error(`the demo policy ${DEMO_POLICY_FILE} is not valid: ${errors.join('; ') || 'no policy in it'}`);
  return policy;
}

async function startController(
  kubeConfig: KubeConfig,
  clock: Clock,
  files: DemoFiles,
  log: WriteStream,
): Promise<() => Promise<void>> {
  const logger = createLogger({ stream: log });
  const recorder = new AuditRecorder(kubeConfig, clock, logger, { auditFile: files.auditLog });
  const operator: RunningOperator = await startOperator({
    kubeConfig,
    clock,
    logger,
    recorder,
    namespace: 'shop',
    reconcilerFactory: (deps: OperatorDeps): Reconciler => createTickReconciler(deps),
  });
  let stopped: Promise<void> | undefined;
  return () => (stopped ??= operator.stop().then(() => recorder.stop()));
}

/** Stops what was started, newest first. */
class Closers {
  private readonly list: Array<() => Promise<unknown>> = [];

  add<T>(started: T, close: (started: T) => Promise<unknown>): T {
    this.list.push(() => close(started));
    return started;
  }

  async closeAll(): Promise<void> {
    for (const close of this.list.splice(0).reverse()) await close().catch(() => undefined);
  }
}

/**
 * Starts the cluster, the shop (Deployment, Service, exporter), the metrics source
 * (`prometheus` when given, else the built-in one) and the controller with the audit recorder.
 * When a part fails to start, the parts already started are stopped.
 */
export async function startDemoStack(
  clock: Clock,
  prometheus: string | undefined,
  startCluster: (kubeconfigPath: string) => Promise<DemoCluster>,
): Promise<DemoStack> {
  const dir = await mkdtemp(join(tmpdir(), 'kubestead-demo-'));
  const files: DemoFiles = {
    dir,
    kubeconfig: join(dir, 'kubeconfig'),
    auditLog: join(dir, 'audit.jsonl'),
    controllerLog: join(dir, 'controller.log'),
  };
  const policy = await demoPolicy();
  const closers = new Closers();
  try {
    const cluster = closers.add(await startCluster(files.kubeconfig), (c) => c.close());
    const traffic = new ShopTraffic(clock);
    const exporter = closers.add(await startShopExporter(traffic), (e) => e.close());
    const metrics = closers.add(
      await startMetricsSource({ policy, traffic, exporterUrl: exporter.url, clock, prometheus }),
      (m) => m.close(),
    );
    const kubeConfig = cluster.kubeConfig();
    await installPolicyCrd(kubeConfig);
    await createShop(kubeConfig);
    const log = closers.add(createWriteStream(files.controllerLog), (l) => new Promise((resolve) => l.end(resolve)));
    const stopController = closers.add(await startController(kubeConfig, clock, files, log), (stop) => stop());
    return {
      files,
      cluster,
      kubeConfig,
      traffic,
      exporter,
      metrics,
      policy,
      stopController,
      close: () => closers.closeAll(),
    };
  } catch (error) {
    await closers.closeAll();
    throw error;
  }
}
