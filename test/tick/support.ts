import {
  ApiextensionsV1Api,
  AppsV1Api,
  AutoscalingV2Api,
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type CoreV1Event,
  type V1CustomResourceDefinition,
  type V1Deployment,
  type V1Pod,
  type V1ReplicaSet,
  type V2HorizontalPodAutoscaler,
} from '@kubernetes/client-node';
import { scaledDeployment } from '../../src/adapters/kube/autoscalers.js';
import { parse } from 'yaml';
import { rolledOut } from '../../src/pipeline/actuate/deployments.js';
import { ManualClock } from '../support/manual-clock.js';
import type { ClusterCache, PolicyObject } from '../../src/adapters/kube/cache.js';
import type { OperatorDeps, TickObserver } from '../../src/runtime/controller/deps.js';
import type { Reconciler, ReconcileResult } from '../../src/runtime/controller/reconciler.js';
import { silentLogger } from '../../src/lib/log/logger.js';
import { createMetricsRuntime } from '../../src/adapters/providers/index.js';
import { crdYaml } from '../../src/tools/gen/crd.js';
import type { PolicyStatus } from '../../src/pipeline/policy/status.js';
import { nullRecorder } from '../../src/pipeline/record/fanout.js';
import type { Recorder } from '../../src/pipeline/record/recorder.js';
import type { Sandbox, SandboxOptions } from '@kubestead/sandbox';
import { kubernetesSecretReader } from '../../src/adapters/secrets/kubernetes.js';
import type { CrashHook } from '../../src/runtime/tick/crash.js';
import { createTickReconciler } from '../../src/runtime/tick/index.js';
import { testSandbox } from '../support/sandbox.js';
import { waitFor } from '../support/wait.js';
import { kubeClients } from '../../src/adapters/kube/clients.js';

export const GROUP = { group: 'kubestead.io', version: 'v1alpha1', plural: 'rolloutpolicies' };
export const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
export const STRATEGIC = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);

const matches = (labels: Record<string, string> | undefined, selector: Record<string, string>): boolean =>
  Object.entries(selector).every(([k, v]) => labels?.[k] === v);

/**
 * A ClusterCache for tests: lists everything of a namespace from the API before each tick (no
 * informers), so that a tick sees the cluster as it is.
 */
export class ListingCache implements ClusterCache {
  private policies: PolicyObject[] = [];
  private deployments: V1Deployment[] = [];
  private rs: V1ReplicaSet[] = [];
  private podList: V1Pod[] = [];
  private eventList: CoreV1Event[] = [];
  private hpaList: V2HorizontalPodAutoscaler[] = [];

  constructor(
    private readonly sandbox: Sandbox,
    private readonly namespace: string,
  ) {}

  async refresh(): Promise<void> {
    const apps = this.sandbox.client(AppsV1Api);
    const core = this.sandbox.client(CoreV1Api);
    const ns = this.namespace;
    const [policies, deployments, rs, pods, events, hpas] = await Promise.all([
      this.sandbox.client(CustomObjectsApi).listNamespacedCustomObject({ ...GROUP, namespace: ns }) as Promise<{
        items: PolicyObject[];
      }>,
      apps.listNamespacedDeployment({ namespace: ns }),
      apps.listNamespacedReplicaSet({ namespace: ns }),
      core.listNamespacedPod({ namespace: ns }),
      core.listNamespacedEvent({ namespace: ns }),
      this.sandbox.client(AutoscalingV2Api).listNamespacedHorizontalPodAutoscaler({ namespace: ns }),
    ]);
    this.policies = policies.items.map((p) => ({ ...p, apiVersion: 'kubestead.io/v1alpha1', kind: 'RolloutPolicy' }));
    this.deployments = deployments.items;
    this.rs = rs.items;
    this.podList = pods.items;
    this.eventList = events.items;
    this.hpaList = hpas.items;
  }

  policy(key: { namespace: string; name: string }): PolicyObject | undefined {
    return this.policies.find((p) => p.metadata?.namespace === key.namespace && p.metadata?.name === key.name);
  }

  deployment(namespace: string, name: string): V1Deployment | undefined {
    return this.deployments.find((d) => d.metadata?.namespace === namespace && d.metadata?.name === name);
  }

  replicaSets(namespace: string, selector: Record<string, string>): V1ReplicaSet[] {
    return this.rs.filter((r) => r.metadata?.namespace === namespace && matches(r.metadata?.labels, selector));
  }

  pods(namespace: string, selector: Record<string, string>): V1Pod[] {
    return this.podList.filter((p) => p.metadata?.namespace === namespace && matches(p.metadata?.labels, selector));
  }

  events(namespace: string, involved: { kind: string; name: string }): CoreV1Event[] {
    return this.eventList.filter(
      (e) =>
        e.metadata?.namespace === namespace &&
        e.involvedObject.kind === involved.kind &&
        e.involvedObject.name === involved.name,
    );
  }

  autoscalers(namespace: string, deployment: string): V2HorizontalPodAutoscaler[] {
    return this.hpaList.filter((h) => h.metadata?.namespace === namespace && scaledDeployment(h) === deployment);
  }

  synced(): boolean {
    return true;
  }
}

/** An observer that keeps what it is told, for assertions. */
export class RecordingObserver implements TickObserver {
  decisions: string[] = [];
  ticks = 0;
  decision(action: string, mode: string): void {
    this.decisions.push(`${mode}:${action}`);
  }
  tick(): void {
    this.ticks++;
  }
  measurement(): void {
    /* counted elsewhere */
  }
  phase(): void {
    /* not asserted here */
  }
}

export interface FixtureOptions {
  namespace?: string;
  recorder?: Recorder;
  crash?: CrashHook;
  /** The controller's clock starts here (default: now, so that a real Prometheus has data at the query time). */
  start?: number;
}

/**
 * A tick-driven scenario over the sandbox (flagger's scheduler tests): build objects, call
 * `tick()`, assert status. Time of the controller is a ManualClock; pods become ready in the
 * sandbox's own (short) time, which `settle` waits for.
 */
export class TickFixture {
  readonly clock: ManualClock;
  readonly cache: ListingCache;
  readonly observer = new RecordingObserver();
  readonly apps: AppsV1Api;
  readonly core: CoreV1Api;
  readonly objects: CustomObjectsApi;
  readonly metrics = createMetricsRuntime();
  reconciler: Reconciler;
  readonly deps: OperatorDeps;

  constructor(
    readonly sandbox: Sandbox,
    readonly namespace: string,
    options: FixtureOptions,
  ) {
    this.clock = new ManualClock(options.start ?? Date.now());
    this.cache = new ListingCache(sandbox, namespace);
    this.apps = sandbox.client(AppsV1Api);
    this.core = sandbox.client(CoreV1Api);
    this.objects = sandbox.client(CustomObjectsApi);
    this.deps = {
      cache: this.cache,
      clients: kubeClients(sandbox.kubeConfig()),
      clock: this.clock,
      logger: silentLogger,
      recorder: options.recorder ?? nullRecorder,
      observer: this.observer,
      identity: 'test-controller',
    };
    this.reconciler = this.build(options.crash);
  }

  /** A fresh reconciler (a restarted controller): nothing carried over but the cluster. */
  build(crash?: CrashHook): Reconciler {
    const secrets = kubernetesSecretReader(this.deps.clients, { clock: this.clock });
    this.reconciler = createTickReconciler(this.deps, {
      crash: crash ?? (() => undefined),
      gather: { metrics: this.metrics, secrets, clock: this.clock },
    });
    return this.reconciler;
  }

  async tick(name = 'app'): Promise<ReconcileResult> {
    await this.cache.refresh();
    return this.reconciler.reconcile({ namespace: this.namespace, name }, new AbortController().signal);
  }

  async createDeployment(
    name: string,
    image: string,
    replicas = 4,
    labels: Record<string, string> = { app: name },
  ): Promise<V1Deployment> {
    return this.apps.createNamespacedDeployment({
      namespace: this.namespace,
      body: {
        metadata: { name, labels },
        spec: {
          replicas,
          selector: { matchLabels: labels },
          template: { metadata: { labels }, spec: { containers: [{ name: 'app', image }] } },
        },
      },
    });
  }

  async applyPolicy(spec: Record<string, unknown>, name = 'app'): Promise<void> {
    await this.objects.createNamespacedCustomObject({
      ...GROUP,
      namespace: this.namespace,
      body: {
        apiVersion: 'kubestead.io/v1alpha1',
        kind: 'RolloutPolicy',
        metadata: { name },
        spec: { targetRef: { kind: 'Deployment', name: 'app' }, ...spec },
      },
    });
  }

  async policy(name = 'app'): Promise<PolicyObject> {
    return (await this.objects.getNamespacedCustomObject({
      ...GROUP,
      namespace: this.namespace,
      name,
    })) as PolicyObject;
  }

  async status(name = 'app'): Promise<PolicyStatus> {
    return (await this.policy(name)).status ?? {};
  }

  deployment(name: string): Promise<V1Deployment> {
    return this.apps.readNamespacedDeployment({ namespace: this.namespace, name });
  }

  async setImage(image: string, name = 'app'): Promise<void> {
    await this.apps.patchNamespacedDeployment(
      {
        namespace: this.namespace,
        name,
        body: { spec: { template: { spec: { containers: [{ name: 'app', image }] } } } },
      },
      STRATEGIC,
    );
  }

  /** Events of an object, oldest first. */
  async events(kind: string, name = 'app'): Promise<CoreV1Event[]> {
    const list = await this.core.listNamespacedEvent({ namespace: this.namespace });
    return list.items.filter(
      (e) => e.involvedObject.kind === kind && e.involvedObject.name === name && e.source?.component === 'kubestead',
    );
  }

  async eventReasons(kind = 'RolloutPolicy', name = 'app'): Promise<string[]> {
    return (await this.events(kind, name)).map((e) => e.reason ?? '');
  }

  /** Waits until every Deployment of the namespace has rolled out (the sandbox's pods are ready). */
  async settle(): Promise<void> {
    await waitFor(
      async () => {
        const list = await this.apps.listNamespacedDeployment({ namespace: this.namespace });
        return list.items.every((d) => rolledOut(d));
      },
      10_000,
      'deployments to roll out',
    );
  }

  /** Ticks, settles and moves the clock by `stepMs` until `done` holds on status (at most `max` ticks). */
  async tickUntil(done: (s: PolicyStatus) => boolean, stepMs: number, max = 40, settle = true): Promise<PolicyStatus> {
    for (let i = 0; i < max; i++) {
      await this.tick();
      const status = await this.status();
      if (done(status)) return status;
      if (settle) await this.settle();
      await this.clock.advance(stepMs);
    }
    throw new Error(`status never reached the expected state in ${max} ticks: ${JSON.stringify(await this.status())}`);
  }

  /** The target (4 replicas of app:1) adopted by a policy with `spec`, then `kubectl set image` to app:2 and one tick: step 0. */
  async startCanary(spec: Record<string, unknown>, replicas = 4): Promise<PolicyStatus> {
    await this.adoptedBy(spec, replicas);
    await this.setImage('app:2');
    await this.tick();
    return this.status();
  }

  /** The target (`replicas` of app:1) created, ready, and adopted by a policy with `spec`. */
  async adoptedBy(spec: Record<string, unknown>, replicas = 4): Promise<PolicyStatus> {
    await this.createDeployment('app', 'app:1', replicas);
    await this.settle();
    await this.applyPolicy(spec);
    return this.adopt();
  }

  /** Adopts the target: ticks until phase Idle. */
  async adopt(): Promise<PolicyStatus> {
    return this.tickUntil((s) => s.phase === 'Idle', 1000);
  }
}

/** A sandbox with the RolloutPolicy CRD and a namespace, for one test file. */
export async function tickSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const sandbox = await testSandbox(options);
  await sandbox
    .client(ApiextensionsV1Api)
    .createCustomResourceDefinition({ body: parse(crdYaml()) as V1CustomResourceDefinition });
  return sandbox;
}

let counter = 0;

/** A fixture in a namespace of its own. */
export async function fixture(sandbox: Sandbox, options: FixtureOptions = {}): Promise<TickFixture> {
  const namespace = options.namespace ?? `t${++counter}-${Math.random().toString(36).slice(2, 7)}`;
  await sandbox.client(CoreV1Api).createNamespace({ body: { metadata: { name: namespace } } });
  return new TickFixture(sandbox, namespace, options);
}

/** The first container's image of a Deployment's template. */
export const imageOf = (d: V1Deployment): string | undefined => d.spec?.template?.spec?.containers[0]?.image;
