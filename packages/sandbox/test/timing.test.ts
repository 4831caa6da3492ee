import {
  AppsV1Api,
  CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
  Watch,
  type V1Deployment,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../src/index.js';
import { kubectlFor, kubectlPresent } from '../../../test/support/kubectl.js';
import { testSandbox } from '../../../test/support/sandbox.js';
import { waitFor } from '../../../test/support/wait.js';

/** Realistic timing: status lags, pods terminate over a grace period, the server ends watches, minReadySeconds and scaling as the deployment controller does them. */

let sandbox: Sandbox;
let apps: AppsV1Api;
let core: CoreV1Api;
const NS = 'timing';
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

const deployment = (
  name: string,
  replicas: number,
  spec: Record<string, unknown> = {},
  image = 'app:1',
): V1Deployment => ({
  metadata: { name },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: { containers: [{ name: 'app', image }], terminationGracePeriodSeconds: 5 },
    },
    ...spec,
  },
});

async function readyDeployment(name: string, replicas: number): Promise<void> {
  await waitFor(
    async () => {
      const d = await apps.readNamespacedDeployment({ name, namespace: NS });
      return (
        d.status?.observedGeneration === d.metadata?.generation &&
        d.status?.availableReplicas === replicas &&
        d.status.updatedReplicas === replicas
      );
    },
    15_000,
    `${name} available`,
  );
}

async function replicaSetSizes(name: string): Promise<Record<string, number>> {
  const list = await apps.listNamespacedReplicaSet({ namespace: NS, labelSelector: `app=${name}` });
  // by image, in image order (the ReplicaSets' names, hence the list's order, come from their templates' hashes)
  return Object.fromEntries(
    list.items
      .map((rs) => [rs.spec?.template?.spec?.containers[0]?.image ?? '', rs.spec?.replicas ?? 0] as const)
      .sort(([a], [b]) => a.localeCompare(b)),
  );
}

beforeAll(async () => {
  sandbox = await testSandbox({
    timing: { controllerLagMs: [30, 80], podGraceMs: 2000, watchLifetimeMs: [1000, 2000] },
  });
  apps = sandbox.client(AppsV1Api);
  core = sandbox.client(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: NS } } });
});
afterAll(async () => sandbox.close());

describe('the controllers lag behind the API', () => {
  it('status.observedGeneration visibly lags a spec change, then catches up', async () => {
    await apps.createNamespacedDeployment({ namespace: NS, body: deployment('lag', 1) });
    await readyDeployment('lag', 1);
    let lagging = 0;
    for (let i = 0; i < 20; i++) {
      const d = await apps.patchNamespacedDeployment(
        {
          name: 'lag',
          namespace: NS,
          body: { metadata: { annotations: { try: String(i) } }, spec: { minReadySeconds: i } },
        },
        merge,
      );
      const read = await apps.readNamespacedDeployment({ name: 'lag', namespace: NS });
      if ((read.status?.observedGeneration ?? 0) < (d.metadata?.generation ?? 0)) lagging++;
    }
    // an instant sandbox showed 0 of 20; a real cluster shows the lag often, not always
    expect(lagging).toBeGreaterThanOrEqual(2);
    await waitFor(
      async () => {
        const d = await apps.readNamespacedDeployment({ name: 'lag', namespace: NS });
        return d.status?.observedGeneration === d.metadata?.generation;
      },
      8000,
      'observedGeneration to catch up',
    );
  });
});

describe('pods terminate over their grace period', () => {
  it('a deleted pod is Terminating (deletionTimestamp, deletionGracePeriodSeconds) before it is gone, and is replaced meanwhile', async () => {
    await apps.createNamespacedDeployment({ namespace: NS, body: deployment('grace', 1) });
    await readyDeployment('grace', 1);
    const [pod] = (await core.listNamespacedPod({ namespace: NS, labelSelector: 'app=grace' })).items;
    const deleted = await core.deleteNamespacedPod({ name: pod!.metadata!.name!, namespace: NS });
    expect(deleted.metadata?.deletionTimestamp).toBeDefined();
    expect(deleted.metadata?.deletionGracePeriodSeconds).toBe(5);
    const during = await core.readNamespacedPod({ name: pod!.metadata!.name!, namespace: NS });
    expect(during.metadata?.deletionTimestamp).toBeDefined();
    await waitFor(
      async () => (await core.listNamespacedPod({ namespace: NS, labelSelector: 'app=grace' })).items.length === 2,
      8000,
      'a replacement beside the terminating pod',
    );
    await waitFor(
      async () =>
        !(await core.listNamespacedPod({ namespace: NS, labelSelector: 'app=grace' })).items.some(
          (p) => p.metadata?.name === pod!.metadata!.name,
        ),
      8000,
      'the pod to go',
    );
  });

  it('gracePeriodSeconds=0 removes a pod at once', async () => {
    const [pod] = (await core.listNamespacedPod({ namespace: NS, labelSelector: 'app=grace' })).items;
    await core.deleteNamespacedPod({ name: pod!.metadata!.name!, namespace: NS, gracePeriodSeconds: 0 });
    const names = (await core.listNamespacedPod({ namespace: NS, labelSelector: 'app=grace' })).items.map(
      (p) => p.metadata?.name,
    );
    expect(names).not.toContain(pod!.metadata!.name);
  });

  it.skipIf(!kubectlPresent)('kubectl get shows a deleted pod as Terminating', async () => {
    const kubectl = await kubectlFor(sandbox);
    try {
      await waitFor(
        async () =>
          (await core.listNamespacedPod({ namespace: NS, labelSelector: 'app=grace' })).items.filter(
            (p) => !p.metadata?.deletionTimestamp,
          ).length === 1,
        8000,
        'one live pod',
      );
      const [pod] = (await core.listNamespacedPod({ namespace: NS, labelSelector: 'app=grace' })).items.filter(
        (p) => !p.metadata?.deletionTimestamp,
      );
      const del = await kubectl.run('delete', 'pod', pod!.metadata!.name!, '-n', NS, '--wait=false');
      expect(del.code, del.stderr).toBe(0);
      const shown = await kubectl.run('get', 'pod', pod!.metadata!.name!, '-n', NS, '--no-headers');
      expect(shown.stdout).toContain('Terminating');
    } finally {
      await kubectl.close();
    }
  });
});

describe('the server closes watches', () => {
  it('ends a watch without timeoutSeconds after its lifetime; the client sees a clean end', async () => {
    const ended = await new Promise<unknown>((resolve, reject) => {
      new Watch(sandbox.kubeConfig())
        .watch(
          `/api/v1/namespaces/${NS}/configmaps`,
          {},
          () => undefined,
          (error) => resolve(error ?? 'clean'),
        )
        .catch(reject);
    });
    expect(ended).toBe('clean');
  });

  it('an informer re-watches after the server ends its watch', async () => {
    const { makeInformer } = await import('@kubernetes/client-node');
    const informer = makeInformer(sandbox.kubeConfig(), `/api/v1/namespaces/${NS}/configmaps`, () =>
      core.listNamespacedConfigMap({ namespace: NS }),
    );
    const seen: string[] = [];
    informer.on('add', (cm) => seen.push(cm.metadata?.name ?? ''));
    await informer.start();
    try {
      const watches = (): number =>
        sandbox.requests
          .list({ path: `/api/v1/namespaces/${NS}/configmaps` })
          .filter((r) => r.query.includes('watch=true')).length;
      await waitFor(() => watches() >= 2, 10_000, 'a second watch');
      await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'after-rewatch' } } });
      await waitFor(() => seen.includes('after-rewatch'), 8000, 'the informer to see a change after re-watching');
    } finally {
      await informer.stop();
    }
  });
});

describe('the deployment controller', () => {
  it('honours minReadySeconds: ready pods count as available only after it', async () => {
    await apps.createNamespacedDeployment({ namespace: NS, body: deployment('minready', 2, { minReadySeconds: 2 }) });
    const ready = await waitFor(
      async () => {
        const d = await apps.readNamespacedDeployment({ name: 'minready', namespace: NS });
        return d.status?.readyReplicas === 2 ? d : undefined;
      },
      8000,
      'ready pods',
    );
    expect(ready.status?.availableReplicas ?? 0).toBeLessThan(2);
    await readyDeployment('minready', 2);
  });

  it('scales a paused Deployment (its current ReplicaSet)', async () => {
    await apps.createNamespacedDeployment({ namespace: NS, body: deployment('paused', 2) });
    await readyDeployment('paused', 2);
    await apps.patchNamespacedDeployment({ name: 'paused', namespace: NS, body: { spec: { paused: true } } }, merge);
    await apps.patchNamespacedDeployment({ name: 'paused', namespace: NS, body: { spec: { replicas: 4 } } }, merge);
    await waitFor(async () => (await replicaSetSizes('paused'))['app:1'] === 4, 8000, 'the paused Deployment to scale');
    await waitFor(
      async () => (await apps.readNamespacedDeployment({ name: 'paused', namespace: NS })).status?.readyReplicas === 4,
      8000,
      'four ready pods',
    );
  });

  it('splits a scale-up mid-rollout proportionally between the old and new ReplicaSets', async () => {
    sandbox.workloads!.behaviourForImage(/:stuck$/, 'never-ready');
    const strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 3, maxUnavailable: 2 } };
    await apps.createNamespacedDeployment({ namespace: NS, body: deployment('prop', 10, { strategy }) });
    await readyDeployment('prop', 10);
    await apps.patchNamespacedDeployment(
      {
        name: 'prop',
        namespace: NS,
        body: { spec: { template: { spec: { containers: [{ name: 'app', image: 'app:stuck' }] } } } },
      },
      merge,
    );
    await waitFor(
      async () => JSON.stringify(await replicaSetSizes('prop')) === JSON.stringify({ 'app:1': 8, 'app:stuck': 5 }),
      10_000,
      'the rollout to stall at 8 + 5',
    );
    await apps.patchNamespacedDeployment({ name: 'prop', namespace: NS, body: { spec: { replicas: 20 } } }, merge);
    await waitFor(
      async () => {
        const sizes = await replicaSetSizes('prop');
        return sizes['app:1'] === 14 && sizes['app:stuck'] === 9 ? sizes : undefined;
      },
      10_000,
      'a proportional split: 14 old + 9 new',
    );
  });

  it('keeps the ReplicaSets of two Deployments with overlapping selectors apart (by ownerReference)', async () => {
    await apps.createNamespacedDeployment({ namespace: NS, body: deployment('shop', 2) });
    const primary = deployment('shop-primary', 3);
    primary.spec!.selector = { matchLabels: { app: 'shop', 'kubestead.io/role': 'primary' } };
    primary.spec!.template.metadata!.labels = { app: 'shop', 'kubestead.io/role': 'primary' };
    await apps.createNamespacedDeployment({ namespace: NS, body: primary });
    await readyDeployment('shop', 2);
    await readyDeployment('shop-primary', 3);
    const owners = (await apps.listNamespacedReplicaSet({ namespace: NS, labelSelector: 'app=shop' })).items
      .map((rs) => `${rs.metadata?.ownerReferences?.[0]?.name ?? ''}=${rs.spec?.replicas ?? 0}`)
      .sort();
    expect(owners).toEqual(['shop-primary=3', 'shop=2']);
    expect(
      (await core.listNamespacedPod({ namespace: NS, labelSelector: 'app=shop' })).items.filter(
        (p) => !p.metadata?.deletionTimestamp,
      ),
    ).toHaveLength(5);
  });
});
