import { CustomObjectsApi } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../support/manual-clock.js';
import type { OperatorDeps } from '../../src/runtime/controller/deps.js';
import { startOperator, type OperatorOptions, type RunningOperator } from '../../src/runtime/controller/operator.js';
import { silentLogger } from '../../src/lib/log/logger.js';
import type { Sandbox } from '@kubestead/sandbox';
import { testSandbox } from '../support/sandbox.js';
import { waitFor } from '../support/wait.js';
import { RecordingReconciler } from './recording-reconciler.js';
import { createDeployment, createNamespace, createPolicy, CuttableProxy, POLICY, sandboxWithCrd } from './support.js';

let sandbox: Sandbox;
const cleanup: Array<() => Promise<void>> = [];

beforeAll(async () => {
  sandbox = await sandboxWithCrd();
  for (const ns of ['op', 'rel', 'sel', 'met', 'ha', 'cut']) await createNamespace(sandbox, ns);
});
afterAll(async () => sandbox.close());
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function operator(
  reconciler: RecordingReconciler,
  options: Partial<OperatorOptions> = {},
): Promise<{ op: RunningOperator; deps: () => OperatorDeps }> {
  let captured: OperatorDeps | undefined;
  const op = await startOperator({
    kubeConfig: sandbox.kubeConfig(),
    logger: silentLogger,
    tuning: { relatedDelayMs: 0, shutdownGraceMs: 2000 },
    reconcilerFactory: (deps) => {
      captured = deps;
      return reconciler;
    },
    ...options,
  });
  cleanup.push(() => op.stop());
  return { op, deps: () => captured! };
}

async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
}

const objects = () => sandbox.client(CustomObjectsApi);

const relabel = (namespace: string, name: string, labels: Record<string, string>) =>
  objects().patchNamespacedCustomObject({
    ...POLICY,
    namespace,
    name,
    body: [{ op: 'add', path: '/metadata/labels', value: labels }],
  });

describe('startOperator against the sandbox (real client-node, recording reconciler)', () => {
  it('reconciles every policy once synced; a spec change reconciles it again, a status write does not; a deleted policy is forgotten', async () => {
    await createPolicy(sandbox, 'op', 'p1', 'web1');
    await createPolicy(sandbox, 'op', 'p2', 'web2');
    const reconciler = new RecordingReconciler();
    await operator(reconciler, { namespace: 'op' });
    await waitFor(
      () => reconciler.callsOf('op/p1').length === 1 && reconciler.callsOf('op/p2').length === 1,
      8000,
      'the first reconciles',
    );
    await objects().patchNamespacedCustomObjectStatus({
      ...POLICY,
      namespace: 'op',
      name: 'p1',
      body: [{ op: 'add', path: '/status', value: { phase: 'Idle' } }],
    });
    await objects().patchNamespacedCustomObject({
      ...POLICY,
      namespace: 'op',
      name: 'p2',
      body: [{ op: 'replace', path: '/spec/interval', value: '20s' }],
    });
    await waitFor(() => reconciler.callsOf('op/p2').length === 2, 8000, 'the reconcile of the changed spec');
    expect(reconciler.callsOf('op/p1')).toHaveLength(1);
    await objects().deleteNamespacedCustomObject({ ...POLICY, namespace: 'op', name: 'p1' });
    await waitFor(() => reconciler.forgotten.includes('op/p1'), 8000, 'the deleted policy forgotten');
  });

  it('--shard-selector: the API server sends only the selected policies; one relabelled out is forgotten, one relabelled in ticks', async () => {
    await createPolicy(sandbox, 'sel', 'shop', 'web1');
    await createPolicy(sandbox, 'sel', 'other', 'web2');
    await relabel('sel', 'shop', { team: 'shop' });
    const reconciler = new RecordingReconciler();
    const { deps } = await operator(reconciler, { namespace: 'sel', shardSelector: { team: 'shop' } });
    await waitFor(() => reconciler.callsOf('sel/shop').length === 1, 8000, 'the selected policy reconciled');
    const held = () => ['shop', 'other'].filter((name) => deps().cache.policy({ namespace: 'sel', name }));
    expect(held()).toEqual(['shop']);
    await relabel('sel', 'shop', { team: 'web' });
    await waitFor(() => reconciler.forgotten.includes('sel/shop'), 8000, 'the policy relabelled out forgotten');
    await relabel('sel', 'other', { team: 'shop' });
    await waitFor(() => reconciler.callsOf('sel/other').length === 1, 8000, 'the policy relabelled in reconciled');
    expect(held()).toEqual(['other']);
    expect(reconciler.callsOf('sel/shop')).toHaveLength(1);
  });

  it('a change of the target, of its -primary, of its ReplicaSets and pods reconciles the policy', async () => {
    await createPolicy(sandbox, 'rel', 'web-policy', 'web');
    const reconciler = new RecordingReconciler();
    await operator(reconciler, { namespace: 'rel' });
    await waitFor(() => reconciler.callsOf('rel/web-policy').length === 1, 8000);
    await createDeployment(sandbox, 'rel', 'unrelated');
    await createDeployment(sandbox, 'rel', 'web');
    // the Deployment, then its ReplicaSet and pods as the sandbox's workloads create them and make them ready
    await waitFor(
      () => reconciler.callsOf('rel/web-policy').length >= 3,
      8000,
      'reconciles for the target and its pods',
    );
    const before = reconciler.callsOf('rel/web-policy').length;
    await createDeployment(sandbox, 'rel', 'web-primary', { app: 'web', 'kubestead.io/role': 'primary' });
    await waitFor(() => reconciler.callsOf('rel/web-policy').length > before, 8000, 'a reconcile for the -primary');
    expect(reconciler.calls.every((c) => c.key === 'rel/web-policy')).toBe(true);
    expect(reconciler.maxRunningPerKey).toBe(1);
  });

  it('serves /metrics (API requests, staleness, queue, leader, and what the tick reports) and /healthz, /readyz', async () => {
    await createPolicy(sandbox, 'met', 'm', 'web');
    const reconciler = new RecordingReconciler();
    const { op, deps } = await operator(reconciler, { namespace: 'met' });
    await waitFor(() => reconciler.calls.length === 1 && op.ready(), 8000);
    const observer = deps().observer;
    observer.decision('advance', 'active');
    observer.decision('rollback', 'shadow');
    observer.phase('met/m', 'Progressing');
    observer.phase('met/other', 'Progressing');
    observer.phase('met/gone', 'Idle');
    observer.phase('met/gone', null);
    observer.measurement('prom', 'ok', 12);
    observer.measurement('prom', 'unavailable', 5000);
    observer.tick(40);
    const { status, body } = await get(op.metricsPort, '/metrics');
    expect(status).toBe(200);
    expect(body).toMatch(/kubestead_api_requests_total\{verb="list",code="200"\} [1-9]/);
    expect(body).toMatch(/kubestead_api_requests_total\{verb="watch",code="200"\} [1-9]/);
    expect(body).toMatch(/kubestead_informer_staleness_seconds\{informer="policies"\} \d/);
    expect(body).toContain('kubestead_informer_synced{informer="pods"} 1');
    expect(body).toContain('kubestead_leader 1');
    expect(body).toContain('kubestead_queue_policies 1');
    expect(body).toContain('kubestead_reconcile_duration_seconds_count{outcome="ok"} 1');
    expect(body).toContain('kubestead_decisions_total{action="advance",mode="active"} 1');
    expect(body).toContain('kubestead_decisions_total{action="rollback",mode="shadow"} 1');
    expect(body).toContain('kubestead_rollouts{phase="Progressing"} 2');
    expect(body).not.toContain('kubestead_rollouts{phase="Idle"}');
    expect(body).toContain('kubestead_measurement_duration_seconds_count{provider="prom",status="unavailable"} 1');
    expect(body).toContain('kubestead_tick_duration_seconds_count 1');
    expect(body).toContain('process_resident_memory_bytes');
    expect((await get(op.metricsPort, '/other')).status).toBe(404);
    expect(await get(op.healthPort, '/healthz')).toEqual({ status: 200, body: '[+]dispatcher ok\nok\n' });
    const ready = await get(op.healthPort, '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toContain('[+]informer-policies ok');
    expect(ready.body).toContain('[+]leader-election ok');
  });

  it('is not ready while an informer cannot list (no CRD installed), and says which', async () => {
    const bare = await testSandbox({ workloads: false });
    cleanup.push(() => bare.close());
    const op = await startOperator({
      kubeConfig: bare.kubeConfig(),
      logger: silentLogger,
      reconcilerFactory: () => new RecordingReconciler(),
    });
    cleanup.push(() => op.stop());
    await waitFor(async () => (await get(op.healthPort, '/readyz')).body.includes('[+]informer-deployments ok'), 8000);
    const ready = await get(op.healthPort, '/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body).toContain('[-]informer-policies failed');
    expect(op.ready()).toBe(false);
    expect((await get(op.healthPort, '/healthz')).status).toBe(200);
  });
});

describe('two operators in one process with leader election (ManualClock, real Lease)', () => {
  async function pair(
    namespace: string,
    lease: string,
    first: { kubeConfig?: ReturnType<Sandbox['kubeConfig']>; manual?: boolean } = {},
  ) {
    const clock = new ManualClock();
    const a = new RecordingReconciler(first.manual ? 'manual' : { requeueAfterMs: 10_000 });
    const b = new RecordingReconciler({ requeueAfterMs: 10_000 });
    const common = {
      namespace,
      clock,
      leaderElect: true,
      leaseNamespace: namespace,
      tuning: { relatedDelayMs: 0, shutdownGraceMs: 0 },
    };
    const opA = await operator(a, {
      ...common,
      identity: `${lease}-a`,
      kubeConfig: first.kubeConfig ?? sandbox.kubeConfig(),
    });
    await waitFor(() => opA.op.isLeader(), 8000, 'the first operator to lead');
    const opB = await operator(b, { ...common, identity: `${lease}-b` });
    return { clock, a, b, opA: opA.op, opB: opB.op };
  }

  /** Advances the clock in 500 ms steps, checking at each that never both lead, until `until` holds. */
  async function runUntil(
    clock: ManualClock,
    ops: RunningOperator[],
    until: () => boolean,
    maxMs: number,
  ): Promise<number> {
    for (let elapsed = 0; elapsed <= maxMs; elapsed += 500) {
      if (until()) return elapsed;
      expect(ops.filter((o) => o.isLeader()).length).toBeLessThanOrEqual(1);
      await clock.advance(500);
      await new Promise((r) => setTimeout(r, 15));
    }
    throw new Error(`not reached within ${maxMs} ms of clock time`);
  }

  it('only the leader reconciles; when it stops, the other takes over and reconciles', async () => {
    await createPolicy(sandbox, 'ha', 'p', 'web');
    const { clock, a, b, opA, opB } = await pair('ha', 'ha-lease');
    await waitFor(() => a.callsOf('ha/p').length === 1, 8000, 'the leader to reconcile');
    await waitFor(() => opB.ready(), 8000, 'the standby to be ready');
    await runUntil(clock, [opA, opB], () => a.callsOf('ha/p').length >= 3, 30_000);
    expect(b.calls).toHaveLength(0);
    expect(opB.isLeader()).toBe(false);
    const stopping = opA.stop();
    await stopping;
    await runUntil(clock, [opA, opB], () => b.callsOf('ha/p').length >= 1, 4000);
    expect(opB.isLeader()).toBe(true);
  });

  it('a leader cut off from the API server aborts its reconcile within the renew deadline; the other takes over', async () => {
    await createPolicy(sandbox, 'cut', 'p', 'web');
    const proxy = await new CuttableProxy(sandbox.port).listen();
    cleanup.push(() => proxy.close());
    const { clock, a, b, opA, opB } = await pair('cut', 'cut-lease', {
      kubeConfig: proxy.kubeConfig(sandbox),
      manual: true,
    });
    await waitFor(() => a.calls.length === 1, 8000);
    proxy.cutOff();
    const stoppedAfter = await runUntil(clock, [opA, opB], () => a.calls[0]!.signal.aborted, 12_000);
    expect(stoppedAfter).toBeLessThanOrEqual(10_000);
    expect(opA.isLeader()).toBe(false);
    expect(String(a.calls[0]!.signal.reason)).toContain('lost leadership');
    await runUntil(clock, [opA, opB], () => b.callsOf('cut/p').length >= 1, 25_000);
    a.calls[0]!.finish(new Error('aborted'));
  });
});
