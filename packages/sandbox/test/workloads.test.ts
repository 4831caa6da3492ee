import { AppsV1Api, CoreV1Api, PatchStrategy, setHeaderOptions, type V1Deployment } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../src/index.js';
import { causeFields, failureOf, raw, testSandbox } from '../../../test/support/sandbox.js';
import { waitFor } from '../../../test/support/wait.js';

let sandbox: Sandbox;
let apps: AppsV1Api;
let core: CoreV1Api;
const ns = 'wl';
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

function deployment(
  name: string,
  replicas: number,
  image = 'app:1',
  extra: Partial<NonNullable<V1Deployment['spec']>> = {},
): V1Deployment {
  return {
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image }] } },
      ...extra,
    },
  };
}

async function read(name: string): Promise<V1Deployment> {
  return apps.readNamespacedDeployment({ name, namespace: ns });
}

function condition(d: V1Deployment, type: string): { status: string; reason?: string } | undefined {
  return d.status?.conditions?.find((c) => c.type === type);
}

beforeAll(async () => {
  sandbox = await testSandbox({ workloads: { readyDelayMs: 80, crashIntervalMs: 60, resyncMs: 100 } });
  apps = sandbox.kubeConfig().makeApiClient(AppsV1Api);
  core = sandbox.kubeConfig().makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: ns } } });
});
afterAll(async () => sandbox.close());

describe('simulated workloads', () => {
  it('brings a Deployment to readyReplicas = replicas through a ReplicaSet with a pod-template-hash', async () => {
    await apps.createNamespacedDeployment({ namespace: ns, body: deployment('web', 3) });
    const ready = await waitFor(
      async () => {
        const d = await read('web');
        return d.status?.readyReplicas === 3 && d.status.availableReplicas === 3 && d.status.updatedReplicas === 3 && d;
      },
      8000,
      'web ready',
    );
    expect(ready.status?.observedGeneration).toBe(ready.metadata?.generation);
    expect(condition(ready, 'Available')).toMatchObject({ status: 'True', reason: 'MinimumReplicasAvailable' });
    expect(condition(ready, 'Progressing')).toMatchObject({ status: 'True', reason: 'NewReplicaSetAvailable' });
    const rs = (await apps.listNamespacedReplicaSet({ namespace: ns, labelSelector: 'app=web' })).items;
    expect(rs).toHaveLength(1);
    const hash = rs[0]!.metadata!.labels!['pod-template-hash']!;
    expect(rs[0]!.metadata!.name).toBe(`web-${hash}`);
    expect(rs[0]!.metadata!.ownerReferences![0]).toMatchObject({ kind: 'Deployment', name: 'web', controller: true });
    const pods = (await core.listNamespacedPod({ namespace: ns, labelSelector: `app=web,pod-template-hash=${hash}` }))
      .items;
    expect(pods).toHaveLength(3);
    for (const pod of pods) {
      expect(pod.status?.phase).toBe('Running');
      expect(pod.status?.containerStatuses?.[0]).toMatchObject({ ready: true, restartCount: 0 });
    }
    expect(ready.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('1');
  });

  it('rolls a template change to a new ReplicaSet and scales the old one to zero', async () => {
    const before = await read('web');
    await apps.patchNamespacedDeployment(
      {
        name: 'web',
        namespace: ns,
        body: { spec: { template: { spec: { containers: [{ name: 'app', image: 'app:2' }] } } } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    const rolled = await waitFor(
      async () => {
        const d = await read('web');
        return (
          d.status?.observedGeneration === (before.metadata?.generation ?? 0) + 1 &&
          d.status.updatedReplicas === 3 &&
          d.status.readyReplicas === 3 &&
          d.status.replicas === 3 &&
          d
        );
      },
      8000,
      'the rollout',
    );
    expect(condition(rolled, 'Progressing')?.reason).toBe('NewReplicaSetAvailable');
    expect(rolled.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('2');
    const rs = (await apps.listNamespacedReplicaSet({ namespace: ns, labelSelector: 'app=web' })).items;
    expect(rs.map((r) => `${r.spec?.template?.spec?.containers[0]?.image}:${r.spec?.replicas}`).sort()).toEqual([
      'app:1:0',
      'app:2:3',
    ]);
    const pods = await waitFor(
      async () => {
        const list = (await core.listNamespacedPod({ namespace: ns, labelSelector: 'app=web' })).items;
        return list.length === 3 && list;
      },
      5000,
      'old pods gone',
    );
    expect(pods.map((p) => p.spec?.containers[0]?.image)).toEqual(['app:2', 'app:2', 'app:2']);
    const scaling = (
      await core.listNamespacedEvent({
        namespace: ns,
        fieldSelector: 'reason=ScalingReplicaSet,involvedObject.name=web',
      })
    ).items;
    expect(scaling.length).toBeGreaterThanOrEqual(3);
  });

  it('rolls back to the old ReplicaSet, which becomes the newest revision', async () => {
    await apps.patchNamespacedDeployment(
      {
        name: 'web',
        namespace: ns,
        body: { spec: { template: { spec: { containers: [{ name: 'app', image: 'app:1' }] } } } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    const back = await waitFor(
      async () => {
        const d = await read('web');
        return (
          d.metadata?.annotations?.['deployment.kubernetes.io/revision'] === '3' &&
          d.status?.observedGeneration === d.metadata.generation &&
          d.status?.updatedReplicas === 3 &&
          d.status?.readyReplicas === 3 &&
          d.status?.replicas === 3 &&
          d
        );
      },
      8000,
      'the rollback',
    );
    expect(condition(back, 'Progressing')?.reason).toBe('NewReplicaSetAvailable');
    const rs = (await apps.listNamespacedReplicaSet({ namespace: ns, labelSelector: 'app=web' })).items;
    expect(
      rs
        .map(
          (r) =>
            `${r.spec?.template?.spec?.containers[0]?.image}:${r.spec?.replicas}:${r.metadata?.annotations?.['deployment.kubernetes.io/revision']}`,
        )
        .sort(),
    ).toEqual(['app:1:3:3', 'app:2:0:2']);
  });

  it('keeps a rolling update within maxSurge and maxUnavailable', async () => {
    const strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } };
    await apps.createNamespacedDeployment({ namespace: ns, body: deployment('surge', 4, 'app:1', { strategy }) });
    await waitFor(async () => (await read('surge')).status?.readyReplicas === 4, 8000, 'surge ready');
    const pods = (): Array<{ ready: boolean }> =>
      sandbox.api.store
        .list('/pods', ns)
        .filter((p) => p.metadata.labels?.app === 'surge' && !p.metadata.deletionTimestamp)
        .map((p) => ({
          ready: (
            (p.status as { conditions?: Array<{ type: string; status: string }> } | undefined)?.conditions ?? []
          ).some((c) => c.type === 'Ready' && c.status === 'True'),
        }));
    let maxPods = 0;
    let minReady = Infinity;
    const unsubscribe = sandbox.api.store.subscribe(() => {
      const now = pods();
      maxPods = Math.max(maxPods, now.length);
      minReady = Math.min(minReady, now.filter((p) => p.ready).length);
    });
    try {
      await apps.patchNamespacedDeployment(
        { name: 'surge', namespace: ns, body: { spec: { template: { metadata: { annotations: { v: '2' } } } } } },
        merge,
      );
      await waitFor(
        async () => {
          const d = await read('surge');
          // the status of the new generation, not the old one still shown while the controller lags
          return (
            d.status?.observedGeneration === d.metadata?.generation &&
            d.status?.updatedReplicas === 4 &&
            d.status?.readyReplicas === 4 &&
            d.status?.replicas === 4 &&
            condition(d, 'Progressing')?.reason === 'NewReplicaSetAvailable'
          );
        },
        10_000,
        'the surge rollout',
      );
    } finally {
      unsubscribe();
    }
    expect(maxPods).toBe(5);
    expect(minReady).toBe(4);
  });

  it('does not roll a paused Deployment until it is resumed', async () => {
    await apps.createNamespacedDeployment({ namespace: ns, body: deployment('paused', 2) });
    await waitFor(async () => (await read('paused')).status?.readyReplicas === 2, 8000, 'paused ready');
    await apps.patchNamespacedDeployment({ name: 'paused', namespace: ns, body: { spec: { paused: true } } }, merge);
    await apps.patchNamespacedDeployment(
      {
        name: 'paused',
        namespace: ns,
        body: { spec: { template: { metadata: { labels: { app: 'paused', v: '2' } } } } },
      },
      merge,
    );
    const held = await waitFor(
      async () => {
        const d = await read('paused');
        // the controller has seen the new template (observedGeneration) and still holds it: no new ReplicaSet
        return (
          condition(d, 'Progressing')?.reason === 'DeploymentPaused' &&
          d.status?.observedGeneration === d.metadata?.generation &&
          d
        );
      },
      5000,
      'DeploymentPaused',
    );
    expect(condition(held, 'Progressing')?.status).toBe('Unknown');
    expect((await apps.listNamespacedReplicaSet({ namespace: ns, labelSelector: 'app=paused' })).items).toHaveLength(1);
    await apps.patchNamespacedDeployment({ name: 'paused', namespace: ns, body: { spec: { paused: false } } }, merge);
    await waitFor(
      async () => {
        const d = await read('paused');
        return (
          d.status?.observedGeneration === d.metadata?.generation &&
          condition(d, 'Progressing')?.reason === 'NewReplicaSetAvailable' &&
          d.status?.updatedReplicas === 2 &&
          d.status?.replicas === 2
        );
      },
      8000,
      'the resumed rollout',
    );
    expect((await apps.listNamespacedReplicaSet({ namespace: ns, labelSelector: 'app=paused' })).items).toHaveLength(2);
  });

  it('crash-loops new pods on request: growing restarts, BackOff warnings, a missed progress deadline', async () => {
    sandbox.workloads!.crashLoop(ns, 'crash');
    await apps.createNamespacedDeployment({
      namespace: ns,
      body: deployment('crash', 2, 'app:bad', { progressDeadlineSeconds: 1 }),
    });
    const pods = await waitFor(
      async () => {
        const list = (await core.listNamespacedPod({ namespace: ns, labelSelector: 'app=crash' })).items;
        return (
          list.length === 2 && list.every((p) => (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 3) && list
        );
      },
      8000,
      'restarts',
    );
    const status = pods[0]!.status!.containerStatuses![0]!;
    expect(status.ready).toBe(false);
    expect(status.state?.waiting?.reason).toBe('CrashLoopBackOff');
    expect(status.lastState?.terminated).toMatchObject({ exitCode: 1, reason: 'Error' });
    const events = (await core.listNamespacedEvent({ namespace: ns, fieldSelector: 'reason=BackOff' })).items.filter(
      (e) => e.involvedObject.name?.startsWith('crash-'),
    );
    expect(events.length).toBe(2);
    expect(events[0]).toMatchObject({ type: 'Warning', reason: 'BackOff', involvedObject: { kind: 'Pod' } });
    expect(events[0]!.message).toMatch(/^Back-off restarting failed container app in pod crash-/);
    expect(events[0]!.count).toBeGreaterThanOrEqual(2);
    const d = await waitFor(
      async () => {
        const x = await read('crash');
        return condition(x, 'Progressing')?.reason === 'ProgressDeadlineExceeded' && x;
      },
      8000,
      'ProgressDeadlineExceeded',
    );
    expect(condition(d, 'Progressing')?.status).toBe('False');
    expect(condition(d, 'Available')).toMatchObject({ status: 'False', reason: 'MinimumReplicasUnavailable' });
    expect(d.status?.readyReplicas).toBeUndefined();
    expect(d.status?.unavailableReplicas).toBe(2);
  });

  it('keeps never-ready pods running but unready', async () => {
    sandbox.workloads!.neverReady(ns, 'stuck');
    await apps.createNamespacedDeployment({
      namespace: ns,
      body: deployment('stuck', 1, 'app:1', { progressDeadlineSeconds: 1 }),
    });
    const pod = await waitFor(
      async () => {
        const list = (await core.listNamespacedPod({ namespace: ns, labelSelector: 'app=stuck' })).items;
        return list[0]?.status?.phase === 'Running' && list[0];
      },
      8000,
      'a running pod',
    );
    expect(pod.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'ContainersNotReady',
    });
    expect(pod.status?.containerStatuses?.[0]).toMatchObject({ ready: false, restartCount: 0 });
    const d = await waitFor(
      async () => {
        const x = await read('stuck');
        return condition(x, 'Progressing')?.reason === 'ProgressDeadlineExceeded' && x;
      },
      8000,
      'ProgressDeadlineExceeded',
    );
    expect(d.status?.readyReplicas).toBeUndefined();
  });

  it("deletes ReplicaSets and pods with their Deployment; a pod's labels may change, its spec may not", async () => {
    const pod = (await core.listNamespacedPod({ namespace: ns, labelSelector: 'app=web' })).items[0]!;
    const labelled = await core.patchNamespacedPod(
      { name: pod.metadata!.name!, namespace: ns, body: { metadata: { labels: { x: 'y' } } } },
      merge,
    );
    expect(labelled.metadata?.labels?.x).toBe('y');
    const write = await failureOf(
      core.patchNamespacedPod(
        { name: pod.metadata!.name!, namespace: ns, body: { spec: { hostname: 'elsewhere' } } },
        merge,
      ),
    );
    expect(write.code).toBe(422);
    await apps.deleteNamespacedDeployment({ name: 'web', namespace: ns });
    await waitFor(
      async () => (await apps.listNamespacedReplicaSet({ namespace: ns, labelSelector: 'app=web' })).items.length === 0,
      5000,
      'ReplicaSets gone',
    );
    await waitFor(
      async () => (await core.listNamespacedPod({ namespace: ns, labelSelector: 'app=web' })).items.length === 0,
      5000,
      'pods gone',
    );
  });

  it('replaces a deleted pod and validates Deployments as the API server does', async () => {
    const pods = (await core.listNamespacedPod({ namespace: ns, labelSelector: 'app=paused' })).items;
    await core.deleteNamespacedPod({ name: pods[0]!.metadata!.name!, namespace: ns });
    await waitFor(
      async () => {
        const now = (await core.listNamespacedPod({ namespace: ns, labelSelector: 'app=paused' })).items;
        return now.length === 2 && !now.some((p) => p.metadata?.name === pods[0]!.metadata!.name);
      },
      5000,
      'a replacement pod',
    );
    const bad = await failureOf(
      apps.createNamespacedDeployment({
        namespace: ns,
        body: {
          metadata: { name: 'bad' },
          spec: {
            selector: { matchLabels: { app: 'x' } },
            template: { metadata: { labels: { app: 'y' } }, spec: { containers: [] } },
          },
        },
      }),
    );
    expect(bad.code).toBe(422);
    expect(causeFields(bad.body)).toEqual([
      'spec.template.metadata.labels FieldValueInvalid',
      'spec.template.spec.containers FieldValueRequired',
    ]);
  });
});

describe('foreground deletion and dry runs', () => {
  it('keeps a Deployment deleted in the foreground until its ReplicaSets and pods are gone', async () => {
    const local = sandbox.client(AppsV1Api);
    await local.createNamespacedDeployment({ namespace: ns, body: deployment('fg', 2) });
    await waitFor(async () => (await read('fg')).status?.readyReplicas === 2, 8000, 'fg ready');
    const seen: string[] = [];
    const unsubscribe = sandbox.api.store.subscribe((e) => {
      if (e.gr === 'apps/deployments' && e.object.metadata.name === 'fg')
        seen.push(`${e.type}:${(e.object.metadata.finalizers ?? []).join(',')}`);
      if (e.gr === '/pods' && e.type === 'DELETED' && e.object.metadata.labels?.app === 'fg') seen.push('pod-gone');
    });
    try {
      const pending = await raw(
        sandbox,
        'DELETE',
        `/apis/apps/v1/namespaces/${ns}/deployments/fg?propagationPolicy=Foreground`,
      );
      // the answer is the object, marked: its dependents go first
      expect(pending.status).toBe(200);
      expect(pending.body.metadata.finalizers).toEqual(['foregroundDeletion']);
      expect(pending.body.metadata.deletionTimestamp).toBeTruthy();
      await waitFor(async () => (await failureOf(read('fg'))).code === 404, 5000, 'fg gone');
    } finally {
      unsubscribe();
    }
    expect(seen[0]).toBe('MODIFIED:foregroundDeletion');
    expect(seen.filter((s) => s === 'pod-gone')).toHaveLength(2);
    expect(seen.indexOf('pod-gone')).toBeLessThan(seen.indexOf('DELETED:'));
  });

  it('changes nothing on dryRun=All', async () => {
    const created = await apps.createNamespacedDeployment({ namespace: ns, body: deployment('dry', 1), dryRun: 'All' });
    expect(created.metadata?.name).toBe('dry');
    expect((await failureOf(read('dry'))).code).toBe(404);
    await apps.deleteNamespacedDeployment({ name: 'paused', namespace: ns, dryRun: 'All' });
    expect((await read('paused')).metadata?.deletionTimestamp).toBeUndefined();
  });
});
