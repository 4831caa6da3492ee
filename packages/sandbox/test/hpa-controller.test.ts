import type { V1Deployment, V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CPU_LOAD_ANNOTATION, type Sandbox } from '../src/index.js';
import { ManualClock } from '../../../test/support/manual-clock.js';
import { deploymentBody, raw, testSandbox } from '../../../test/support/sandbox.js';
import { waitFor } from '../../../test/support/wait.js';

/** The sandbox's HPA controller, driven by its clock: one sync every 15 s of clock time, never a sleep. */
const SYNC_MS = 15_000;
let sandbox: Sandbox;
const clock = new ManualClock();

beforeAll(async () => {
  sandbox = await testSandbox({
    clock,
    timing: false,
    hpaSyncMs: SYNC_MS,
    workloads: { readyDelayMs: 1000, resyncMs: 1000 },
  });
});

afterAll(() => sandbox.close());

const deployments = (name = '') => `/apis/apps/v1/namespaces/default/deployments${name ? `/${name}` : ''}`;
const hpas = (name = '') => `/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers${name ? `/${name}` : ''}`;

async function readDeployment(name: string): Promise<V1Deployment> {
  return (await raw(sandbox, 'GET', deployments(name))).body as V1Deployment;
}

async function readHpa(name: string): Promise<V2HorizontalPodAutoscaler> {
  return (await raw(sandbox, 'GET', hpas(name))).body as V2HorizontalPodAutoscaler;
}

async function setLoad(name: string, load: string): Promise<void> {
  const body = JSON.stringify({ metadata: { annotations: { [CPU_LOAD_ANNOTATION]: load } } });
  const r = await raw(sandbox, 'PATCH', deployments(name), { body, contentType: 'application/merge-patch+json' });
  expect(r.status).toBe(200);
}

/** Advances the clock a second at a time until every pod of the Deployment is Ready. */
async function settle(name: string): Promise<void> {
  await waitFor(
    async () => {
      await clock.advance(1000);
      const d = await readDeployment(name);
      return d.status?.readyReplicas === d.spec?.replicas && d.status?.replicas === d.spec?.replicas;
    },
    8000,
    `${name} to be ready`,
  );
}

/** Advances one sync period: the controller's sync runs on the clock's wake-up, before advance() returns. */
async function sync(name: string): Promise<V2HorizontalPodAutoscaler> {
  await clock.advance(SYNC_MS);
  return readHpa(name);
}

/** A Deployment whose pods request 100m of CPU, with the simulated load `load`. */
async function createDeployment(name: string, replicas: number, load?: string): Promise<void> {
  const body = deploymentBody(name, {}, { replicas });
  body.spec!.template.spec!.containers[0]!.resources = { requests: { cpu: '100m' } };
  if (load) body.metadata!.annotations = { [CPU_LOAD_ANNOTATION]: load };
  expect(
    (await raw(sandbox, 'POST', deployments(), { body: JSON.stringify(body), contentType: 'application/json' })).status,
  ).toBe(201);
}

/** An HPA of the Deployment `name`: 1 to 10 replicas at 50 % CPU, with `spec` merged in. */
async function createHpa(name: string, spec: Record<string, unknown> = {}): Promise<void> {
  const hpa = {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
      minReplicas: 1,
      maxReplicas: 10,
      metrics: [
        { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } },
      ],
      ...spec,
    },
  };
  expect(
    (await raw(sandbox, 'POST', hpas(), { body: JSON.stringify(hpa), contentType: 'application/json' })).status,
  ).toBe(201);
}

async function create(name: string, replicas: number, load?: string): Promise<void> {
  await createDeployment(name, replicas, load);
  await createHpa(name);
}

/** The Events about the HPA `name`, oldest first: `Type Reason: message (×count)`. */
async function hpaEvents(name: string): Promise<string[]> {
  const list = (await raw(sandbox, 'GET', '/api/v1/namespaces/default/events')).body as {
    items: Array<{
      type: string;
      reason: string;
      message: string;
      count: number;
      source: { component: string };
      involvedObject: { kind: string; name: string };
      metadata: { resourceVersion: string };
    }>;
  };
  return list.items
    .filter((e) => e.involvedObject.kind === 'HorizontalPodAutoscaler' && e.involvedObject.name === name)
    .filter((e) => e.source.component === 'horizontal-pod-autoscaler')
    .sort((a, b) => Number(a.metadata.resourceVersion) - Number(b.metadata.resourceVersion))
    .map((e) => `${e.type} ${e.reason}: ${e.message} (×${e.count})`);
}

/** Only the SuccessfulRescale Events (a sync during a test's settling may have found no Ready pod yet). */
const rescales = (events: string[]): string[] => events.filter((e) => e.includes(' SuccessfulRescale: '));
const withoutCount = (event: string): string => event.replace(/ \(×\d+\)$/, '');
const countOf = (event: string): number => Number(/\(×(\d+)\)$/.exec(event)?.[1]);

const UP_REASON = 'cpu resource utilization (percentage of request) above target';

const utilizationOf = (hpa: V2HorizontalPodAutoscaler): number | undefined =>
  hpa.status?.currentMetrics?.[0]?.resource?.current.averageUtilization;
const replicasOf = async (name: string): Promise<number | undefined> => (await readDeployment(name)).spec?.replicas;

const conditionOf = (hpa: V2HorizontalPodAutoscaler, type: string) =>
  hpa.status?.conditions?.find((c) => c.type === type);

describe('the sandbox HPA controller', () => {
  it('scales up within one sync, holds inside the tolerance, and scales down after the stabilization window', async () => {
    await create('web', 4, '400m');
    await settle('web');
    const up = await sync('web');
    expect(await replicasOf('web')).toBe(8);
    expect(up.status).toMatchObject({ currentReplicas: 4, desiredReplicas: 8 });
    expect(utilizationOf(up)).toBe(100);
    expect(up.status?.lastScaleTime).toBeDefined();
    expect(conditionOf(up, 'ScalingActive')).toMatchObject({ status: 'True', reason: 'ValidMetricFound' });
    expect(conditionOf(up, 'AbleToScale')).toMatchObject({ status: 'True', reason: 'ReadyForNewScale' });
    expect(rescales(await hpaEvents('web'))).toEqual([
      `Normal SuccessfulRescale: New size: 8; reason: ${UP_REASON} (×1)`,
    ]);

    await settle('web');
    await setLoad('web', '420m'); // 52 %: inside the 10 % tolerance of 50 %
    const steady = await sync('web');
    expect(steady.status).toMatchObject({ currentReplicas: 8, desiredReplicas: 8 });
    expect(utilizationOf(steady)).toBe(52);

    await setLoad('web', '200m'); // 25 %: 4 pods would do, but only after 300 s of lower recommendations
    const held = await sync('web');
    expect(await replicasOf('web')).toBe(8);
    expect(conditionOf(held, 'AbleToScale')).toMatchObject({ status: 'True', reason: 'ScaleDownStabilized' });
    let last = held;
    for (let t = SYNC_MS; t < 300_000 - SYNC_MS; t += SYNC_MS) {
      last = await sync('web');
      expect(last.status?.desiredReplicas).toBe(8);
    }
    await waitFor(
      async () => {
        last = await sync('web');
        return last.status?.desiredReplicas === 4;
      },
      8000,
      'the scale-down after 300 s',
    );
    expect(await replicasOf('web')).toBe(4);
    expect(rescales(await hpaEvents('web'))).toEqual([
      `Normal SuccessfulRescale: New size: 8; reason: ${UP_REASON} (×1)`,
      'Normal SuccessfulRescale: New size: 4; reason: All metrics below target (×1)',
    ]);
  });

  it('brings a target above maxReplicas down to it, saying why', async () => {
    await createDeployment('over', 12, '400m');
    await createHpa('over');
    await sync('over');
    expect(await replicasOf('over')).toBe(10);
    expect(rescales(await hpaEvents('over'))).toEqual([
      'Normal SuccessfulRescale: New size: 10; reason: Current number of replicas above Spec.MaxReplicas (×1)',
    ]);
  });

  it('does not scale a target at 0 replicas (ScalingDisabled)', async () => {
    await create('idle', 0, '400m');
    const hpa = await sync('idle');
    expect(conditionOf(hpa, 'ScalingActive')).toMatchObject({ status: 'False', reason: 'ScalingDisabled' });
    expect(await replicasOf('idle')).toBe(0);
  });

  it('reports FailedGetResourceMetric when no pod has a load', async () => {
    await create('quiet', 2);
    await settle('quiet');
    const hpa = await sync('quiet');
    expect(conditionOf(hpa, 'ScalingActive')).toMatchObject({ status: 'False', reason: 'FailedGetResourceMetric' });
    expect(await replicasOf('quiet')).toBe(2);
    const cause =
      'failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API';
    const warnings = [
      `Warning FailedGetResourceMetric: ${cause}`,
      `Warning FailedComputeMetricsReplicas: invalid metrics (1 invalid out of 1), first error is: ${cause}`,
    ];
    const before = await hpaEvents('quiet');
    expect(before.map(withoutCount)).toEqual(warnings);
    // the next sync fails the same way: the same two Events, each counted once more (as client-go aggregates)
    await sync('quiet');
    const after = await hpaEvents('quiet');
    expect(after.map(withoutCount)).toEqual(warnings);
    expect(after.map(countOf)).toEqual(before.map((e) => countOf(e) + 1));
  });
});

describe('spec.behavior, on the sync loop', () => {
  it('a scaleUp policy of 1 pod per 60 s adds one pod, then waits out the period', async () => {
    await createDeployment('stepped', 2, '400m'); // 200 %: 8 pods wanted
    await settle('stepped');
    await createHpa('stepped', {
      behavior: { scaleUp: { policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] } },
    });
    const first = await sync('stepped');
    expect(await replicasOf('stepped')).toBe(3);
    expect(conditionOf(first, 'ScalingLimited')).toMatchObject({ status: 'True', reason: 'ScaleUpLimit' });
    for (const elapsed of [15, 30, 45]) {
      const held = await sync('stepped');
      expect({ elapsed, replicas: await replicasOf('stepped') }).toEqual({ elapsed, replicas: 3 });
      expect(conditionOf(held, 'ScalingLimited')).toMatchObject({ status: 'True', reason: 'ScaleUpLimit' });
    }
    await sync('stepped'); // 60 s after the first step: the period's budget is back
    expect(await replicasOf('stepped')).toBe(4);
    expect(rescales(await hpaEvents('stepped')).map(withoutCount)).toEqual([
      `Normal SuccessfulRescale: New size: 3; reason: ${UP_REASON}`,
      `Normal SuccessfulRescale: New size: 4; reason: ${UP_REASON}`,
    ]);
  });

  it('selectPolicy Disabled on scaleDown never scales down, long after the 300 s window', async () => {
    await createDeployment('nodown', 4, '400m');
    await settle('nodown');
    await createHpa('nodown', { behavior: { scaleDown: { selectPolicy: 'Disabled' } } });
    await sync('nodown');
    expect(await replicasOf('nodown')).toBe(8);
    await settle('nodown');
    await setLoad('nodown', '100m'); // 12.5 %: 2 pods would do
    let last = await sync('nodown');
    for (let t = SYNC_MS; t <= 400_000; t += SYNC_MS) {
      last = await sync('nodown');
      expect({ t, replicas: await replicasOf('nodown') }).toEqual({ t, replicas: 8 });
    }
    expect(last.status).toMatchObject({ currentReplicas: 8, desiredReplicas: 8 });
    expect(conditionOf(last, 'ScalingLimited')).toMatchObject({ status: 'True', reason: 'ScaleDownLimit' });
    expect(rescales(await hpaEvents('nodown')).map(withoutCount)).toEqual([
      `Normal SuccessfulRescale: New size: 8; reason: ${UP_REASON}`,
    ]);
  });
});
