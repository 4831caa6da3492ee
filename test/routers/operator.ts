import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { afterAll, beforeAll } from 'vitest';
import { ManualClock } from '../support/manual-clock.js';
import { startOperator, type RunningOperator } from '../../src/runtime/controller/operator.js';
import { silentLogger } from '../../src/lib/log/logger.js';
import { systemClock } from '../../src/lib/clock/clock.js';
import { AuditRecorder } from '../../src/pipeline/record/audit/index.js';
import type { PolicyStatus } from '../../src/pipeline/policy/status.js';
import type { DecisionRecord, RecordReceipt } from '../../src/pipeline/record/recorder.js';
import type { Sandbox } from '@kubestead/sandbox';
import { createTickReconciler } from '../../src/runtime/tick/index.js';
import { testSandbox } from '../support/sandbox.js';
import { waitFor } from '../support/wait.js';
import { startFakePrometheus, type FakePrometheus } from '../tick/fake-prometheus.js';
import { createObject, type Manifest, type RouterCase } from './cases.js';
import { installCrds } from './support.js';

const POLICIES = { group: 'kubestead.io', version: 'v1alpha1', plural: 'rolloutpolicies' };
const STRATEGIC = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);

/** The policy interval and step soak of every controller scenario (clock time: the test advances it). */
export const INTERVAL_MS = 10_000;
export const SOAK_MS = 120_000;

/** The audit chain's recorder, keeping every record it is given in `records` as well. */
class KeepingAuditRecorder extends AuditRecorder {
  constructor(
    kubeConfig: KubeConfig,
    private readonly kept: DecisionRecord[],
  ) {
    super(kubeConfig, systemClock, silentLogger);
  }

  override record(entry: DecisionRecord): Promise<RecordReceipt> {
    this.kept.push(entry);
    return super.record(entry);
  }
}

/**
 * The operator as `kubestead run` starts it (informers, work queue, the real tick), on a
 * ManualClock, against a sandbox with the published router CRDs. Its recorder is the audit chain
 * `kubestead run` keeps (ConfigMaps beside each policy, so a test can hold the router's state to the
 * chain: invariant I); every record that reaches it is also kept here for assertions. The chain's
 * `recordedAt` is real time, as the sandbox's request log has it.
 */
export class OperatorWorld {
  readonly clock = new ManualClock(Date.now());
  readonly records: DecisionRecord[] = [];
  private op: RunningOperator | undefined;
  private audit: AuditRecorder | undefined;
  private readonly stubs: FakePrometheus[] = [];

  constructor(readonly sandbox: Sandbox) {}

  async start(): Promise<void> {
    const recorder = new KeepingAuditRecorder(this.sandbox.kubeConfig(), this.records);
    this.audit = recorder;
    this.op = await startOperator({
      kubeConfig: this.sandbox.kubeConfig(),
      clock: this.clock,
      logger: silentLogger,
      recorder,
      identity: 'router-test',
      tuning: { relatedDelayMs: 0, shutdownGraceMs: 2000 },
      reconcilerFactory: (deps) => createTickReconciler(deps, { crash: () => undefined }),
    });
    // The controller waits for its caches in 100 ms sleeps of its clock; then every policy is due.
    const op = this.op;
    await waitFor(
      async () => {
        await this.clock.advance(100);
        return op.ready();
      },
      10_000,
      'the operator to sync its caches',
    );
    await this.clock.advance(100);
  }

  /**
   * Stops the operator. A tick still in flight may wait on the clock (the metrics client's retry
   * after a closed stand-in Prometheus, say), and so does the shutdown grace: the clock moves
   * until the operator is down, or stop() would wait for a time that never comes.
   */
  async stop(): Promise<void> {
    const op = this.op;
    if (!op) return;
    let stopped = false;
    const stopping = op.stop().then(() => {
      stopped = true;
    });
    await waitFor(
      async () => {
        if (!stopped) await this.clock.advance(500);
        return stopped;
      },
      20_000,
      'the operator to stop',
    );
    await stopping;
    await this.audit?.stop();
    await Promise.all(this.stubs.splice(0).map((stub) => stub.close()));
  }

  /**
   * A stand-in Prometheus for one scenario (answers 0.001 until told otherwise). It stays up until
   * the operator stops: every policy of the file keeps ticking on each move of the shared clock, and
   * one whose Prometheus was gone would fail its query, wait on this clock for the retry and roll
   * back in the middle of a later scenario.
   */
  async prometheus(): Promise<FakePrometheus> {
    const stub = await startFakePrometheus(0.001);
    this.stubs.push(stub);
    return stub;
  }

  /** The policy interval passes: every requeued policy ticks. */
  async interval(ms = INTERVAL_MS): Promise<void> {
    await this.clock.advance(ms);
  }

  async status(namespace: string): Promise<PolicyStatus> {
    const policy: { status?: PolicyStatus } = await this.sandbox
      .client(CustomObjectsApi)
      .getNamespacedCustomObject({ ...POLICIES, namespace, name: 'checkout' });
    return policy.status ?? {};
  }

  /** Waits (real time, polling the API) until the policy's status satisfies `done`. */
  async until(
    namespace: string,
    what: string,
    done: (s: PolicyStatus) => boolean,
    timeoutMs = 20_000,
  ): Promise<PolicyStatus> {
    let last: PolicyStatus = {};
    return waitFor(
      async () => {
        last = await this.status(namespace);
        return done(last) ? last : undefined;
      },
      timeoutMs,
      () => `${namespace}: ${what}; status is ${JSON.stringify(last)}`,
    );
  }

  /**
   * Moves the clock (first by `firstMs`, then by an interval at a time) until `probe` gives a
   * value: a tick in flight while the clock moved is requeued from the new time, so one move may
   * not be enough. Each move waits up to 2 s of real time for the ticks it starts.
   */
  async advanceUntil<T>(probe: () => Promise<T | undefined>, what: () => string, firstMs = INTERVAL_MS): Promise<T> {
    for (let move = 0; move < 6; move++) {
      await this.clock.advance(move === 0 ? firstMs : INTERVAL_MS);
      const reached = await waitFor(probe, 2000).catch(() => undefined);
      if (reached !== undefined) return reached;
    }
    throw new Error(`not reached after 6 moves of the clock: ${what()}`);
  }

  /** advanceUntil for a status. */
  async advanceUntilStatus(
    namespace: string,
    what: string,
    done: (s: PolicyStatus) => boolean,
    firstMs = INTERVAL_MS,
  ): Promise<PolicyStatus> {
    let last: PolicyStatus = {};
    return this.advanceUntil(
      async () => {
        last = await this.status(namespace);
        return done(last) ? last : undefined;
      },
      () => `${namespace}: ${what}; status is ${JSON.stringify(last)}`,
      firstMs,
    );
  }

  /** `kubectl set image deployment/checkout <container>=<image>`. */
  async setImage(namespace: string, image: string, container = 'app'): Promise<void> {
    await this.sandbox.client(AppsV1Api).patchNamespacedDeployment(
      {
        namespace,
        name: 'checkout',
        body: { spec: { template: { spec: { containers: [{ name: container, image }] } } } },
      },
      STRATEGIC,
    );
  }

  /** Events Kubestead sent about the policy, oldest first: `Reason: message`. */
  async events(namespace: string): Promise<string[]> {
    const list = await this.sandbox.client(CoreV1Api).listNamespacedEvent({ namespace });
    return list.items
      .filter((e) => e.involvedObject.kind === 'RolloutPolicy' && e.source?.component === 'kubestead')
      .sort((a, b) => Number(a.metadata?.resourceVersion) - Number(b.metadata?.resourceVersion))
      .map((e) => `${e.reason ?? ''}: ${e.message ?? ''}`);
  }
}

/** One sandbox with the router CRDs and one running operator for a test file. */
export function operatorWorld(): () => OperatorWorld {
  let world: OperatorWorld | undefined;
  beforeAll(async () => {
    const sandbox = await testSandbox();
    await installCrds(sandbox);
    world = new OperatorWorld(sandbox);
    await world.start();
  });
  afterAll(async () => {
    await world?.stop();
    await world?.sandbox.close();
  });
  return () => {
    if (!world) throw new Error('operator world used outside its tests');
    return world;
  };
}

/** The app of every scenario: Deployment `checkout` (2 replicas) and its Service, as a user has them. */
export async function createApp(sandbox: Sandbox, namespace: string): Promise<void> {
  await sandbox.client(CoreV1Api).createNamespace({ body: { metadata: { name: namespace } } });
  const labels = { app: 'checkout' };
  await sandbox.client(AppsV1Api).createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name: 'checkout', labels },
      spec: {
        replicas: 2,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: { containers: [{ name: 'app', image: 'shop/checkout:1', ports: [{ containerPort: 8080 }] }] },
        },
      },
    },
  });
  await sandbox.client(CoreV1Api).createNamespacedService({
    namespace,
    body: {
      metadata: { name: 'checkout' },
      spec: { selector: labels, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] },
    },
  });
}

/**
 * The policy of every scenario: 0.5 % then 60 %, two minutes each, one check on the stand-in
 * Prometheus. 60 % needs a second canary pod: the step waits at 0.5 % until it is ready.
 */
export function policyOf(routerCase: RouterCase, prom: FakePrometheus): Manifest {
  return {
    apiVersion: 'kubestead.io/v1alpha1',
    kind: 'RolloutPolicy',
    metadata: { name: 'checkout' },
    spec: {
      targetRef: { kind: 'Deployment', name: 'checkout' },
      interval: `${INTERVAL_MS / 1000}s`,
      steps: [
        { weight: 0.5, soak: `${SOAK_MS / 1000}s` },
        { weight: 60, soak: `${SOAK_MS / 1000}s` },
      ],
      providers: { prom: { prometheus: { address: prom.url } } },
      checks: [{ name: 'errors', provider: 'prom', query: 'sum(rate(errors[1m]))', max: 0.05 }],
      trafficRouting: routerCase.trafficRouting,
    },
  };
}

export async function createPolicy(sandbox: Sandbox, namespace: string, body: Manifest): Promise<void> {
  await createObject(sandbox, namespace, body);
}
