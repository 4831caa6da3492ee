import {
  ApiextensionsV1Api,
  AutoscalingV2Api,
  type V1CustomResourceDefinition,
  type V2HorizontalPodAutoscaler,
} from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { CPU_LOAD_ANNOTATION } from '@kubestead/sandbox';
import { renderPolicy, type PolicyView } from '../../src/tools/view/policy-view.js';
import { sampleReadyPods } from '../support/capacity.js';
import { waitFor } from '../support/wait.js';
import { scenario } from './scenario.js';
import { GROUP, MERGE, type TickFixture } from './support.js';

/** The sandbox's HPAs sync every 200 ms of its (real) clock: a test waits for their counts, never a fixed time. */
const env = scenario({ hpaSyncMs: 200 });

/** `app` at `replicas`, each pod asking 100m of cpu, the Deployment's pods together using `load`. */
async function autoscaledApp(f: TickFixture, replicas: number, load: string): Promise<void> {
  const labels = { app: 'app' };
  await f.apps.createNamespacedDeployment({
    namespace: f.namespace,
    body: {
      metadata: { name: 'app', labels, annotations: { [CPU_LOAD_ANNOTATION]: load } },
      spec: {
        replicas,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: { containers: [{ name: 'app', image: 'app:1', resources: { requests: { cpu: '100m' } } }] },
        },
      },
    },
  });
}

/** The user's HPA of `app`: 2 to 10 replicas, 50 % cpu. */
function userHpa(): V2HorizontalPodAutoscaler {
  return {
    metadata: { name: 'app' },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'app' },
      minReplicas: 2,
      maxReplicas: 10,
      metrics: [
        { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } },
      ],
    },
  };
}

/** A stand-in for KEDA's ScaledObject (its own group: no third-party material), to own a KEDA-like HPA. */
const SCALED_OBJECT_CRD: V1CustomResourceDefinition = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'scaledobjects.keda.example.com' },
  spec: {
    group: 'keda.example.com',
    scope: 'Namespaced',
    names: { plural: 'scaledobjects', singular: 'scaledobject', kind: 'ScaledObject', listKind: 'ScaledObjectList' },
    versions: [
      {
        name: 'v1alpha1',
        served: true,
        storage: true,
        schema: { openAPIV3Schema: { type: 'object', x_kubernetes_preserve_unknown_fields: true } },
      },
    ],
  },
};

/** The last HPA read, for a wait's failure message: its spec's bounds and its whole status. */
let lastSeen = '';

async function hpaOf(f: TickFixture, name: string): Promise<V2HorizontalPodAutoscaler> {
  const hpa = await env.sandbox
    .client(AutoscalingV2Api)
    .readNamespacedHorizontalPodAutoscaler({ namespace: f.namespace, name });
  const { minReplicas, maxReplicas } = hpa.spec ?? {};
  lastSeen = `${name} ${JSON.stringify({ minReplicas, maxReplicas, status: hpa.status })}`;
  return hpa;
}

/** `app` ready at the 6 replicas its HPA asks for (300m over 100m pods at a 50 % target). */
async function autoscaledAt6(): Promise<TickFixture> {
  const f = await env.fixture();
  await autoscaledApp(f, 4, '300m');
  await env.sandbox
    .client(AutoscalingV2Api)
    .createNamespacedHorizontalPodAutoscaler({ namespace: f.namespace, body: userHpa() });
  await waitFor(async () => (await hpaOf(f, 'app')).status?.currentReplicas === 6, 10_000, 'the HPA to scale app to 6');
  await f.settle();
  return f;
}

describe("the user's HPA of the target (docs/hpa.md)", () => {
  it('is shown in status and by `kubestead status` with its bounds and counts, and goes when the HPA goes', async () => {
    const f = await env.fixture();
    // 300m over 4 pods of 100m is 75 % against a 50 % target: the HPA wants 6
    await autoscaledApp(f, 4, '300m');
    const autoscaling = env.sandbox.client(AutoscalingV2Api);
    await autoscaling.createNamespacedHorizontalPodAutoscaler({ namespace: f.namespace, body: userHpa() });
    await waitFor(
      async () => (await hpaOf(f, 'app')).status?.currentReplicas === 6,
      10_000,
      'the HPA to scale app to 6',
    );
    await f.applyPolicy(env.spec());
    await f.tick();
    const status = await f.status();
    expect(status.autoscaler).toEqual({
      name: 'app',
      minReplicas: 2,
      maxReplicas: 10,
      currentReplicas: 6,
      desiredReplicas: 6,
    });
    const policy = (await f.policy()) as unknown as PolicyView;
    expect(renderPolicy(policy, { color: false, now: f.clock.now() })).toContain(
      '  autoscaler HPA app: 2–10 replicas, current 6, desired 6',
    );
    await autoscaling.deleteNamespacedHorizontalPodAutoscaler({ namespace: f.namespace, name: 'app' });
    await f.tick();
    expect((await f.status()).autoscaler).toBeUndefined();
  });

  it("adoption keeps the 6 serving, primary gets its own HPA, kept in step with the user's and removed with it", async () => {
    const f = await autoscaledAt6();
    const autoscaling = env.sandbox.client(AutoscalingV2Api);
    env.sandbox.requests.clear();
    const sampler = await sampleReadyPods(env.sandbox, f.namespace);
    await f.applyPolicy(env.spec());
    await f.adopt();
    const samples = await sampler.stop();
    expect(samples.length).toBeGreaterThan(5);
    expect(Math.min(...samples), `ready pods sampled during adoption: ${samples.join(' ')}`).toBeGreaterThanOrEqual(6);
    expect((await f.deployment('app-primary')).spec?.replicas).toBe(6);
    expect((await f.deployment('app')).spec?.replicas).toBe(0);
    // Kubestead wrote /scale once: the target to 0 (primary was created at 6)
    expect(env.sandbox.requests.list({ method: 'PATCH', path: /\/scale/ }).map((r) => r.path)).toEqual([
      `/apis/apps/v1/namespaces/${f.namespace}/deployments/app/scale`,
    ]);
    const copy = await hpaOf(f, 'app-primary');
    const user = await hpaOf(f, 'app');
    expect(copy.spec).toEqual({
      ...user.spec,
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'app-primary' },
    });
    expect(copy.metadata?.labels).toEqual({ 'app.kubernetes.io/managed-by': 'kubestead' });
    expect(copy.metadata?.ownerReferences?.map((o) => o.kind)).toEqual(['RolloutPolicy']);
    expect(await f.eventReasons()).toContain('AutoscalerCreated');
    // the user's spec changes: the copy follows on the next tick
    await autoscaling.patchNamespacedHorizontalPodAutoscaler(
      {
        namespace: f.namespace,
        name: 'app',
        body: { spec: { maxReplicas: 8, behavior: { scaleDown: { stabilizationWindowSeconds: 60 } } } },
      },
      MERGE,
    );
    await f.tick();
    const followed = await hpaOf(f, 'app-primary');
    expect([followed.spec?.maxReplicas, followed.spec?.behavior?.scaleDown?.stabilizationWindowSeconds]).toEqual([
      8, 60,
    ]);
    // the user's HPA goes: so does the copy, and primary keeps its count
    await autoscaling.deleteNamespacedHorizontalPodAutoscaler({ namespace: f.namespace, name: 'app' });
    await f.tick();
    expect((await autoscaling.listNamespacedHorizontalPodAutoscaler({ namespace: f.namespace })).items).toEqual([]);
    expect((await f.deployment('app-primary')).spec?.replicas).toBe(6);
  });

  it('deleting the policy hands the target back at the serving count, with its HPA scaling it again', async () => {
    const f = await autoscaledAt6();
    await f.applyPolicy(env.spec());
    await f.adopt();
    await waitFor(
      async () => (await hpaOf(f, 'app-primary')).status?.currentReplicas === 6,
      10_000,
      () => `primary's HPA at 6: ${lastSeen}`,
    );
    const sampler = await sampleReadyPods(env.sandbox, f.namespace);
    await f.objects.deleteNamespacedCustomObject({ ...GROUP, namespace: f.namespace, name: 'app' });
    await waitFor(
      async () => {
        await f.tick();
        return (await f.objects.listNamespacedCustomObject({ ...GROUP, namespace: f.namespace })).items.length === 0;
      },
      30_000,
      'the hand-back',
    );
    const samples = await sampler.stop();
    expect(
      Math.min(...samples),
      `ready pods sampled during the hand-back: ${samples.join(' ')}`,
    ).toBeGreaterThanOrEqual(6);
    expect((await f.deployment('app')).spec?.replicas).toBe(6);
    const left = await env.sandbox
      .client(AutoscalingV2Api)
      .listNamespacedHorizontalPodAutoscaler({ namespace: f.namespace });
    expect(left.items.map((h) => h.metadata?.name)).toEqual(['app']);
    await waitFor(
      async () => (await hpaOf(f, 'app')).status?.currentReplicas === 6,
      10_000,
      () => `the user's HPA scaling app again: ${lastSeen}`,
    );
  });
  it("the user's HPA deleted mid-canary: its copy goes, primary and the canary keep their pods, the rollout goes on", async () => {
    const f = await autoscaledAt6();
    const autoscaling = env.sandbox.client(AutoscalingV2Api);
    await f.applyPolicy(
      env.spec({
        steps: [
          { weight: 25, soak: '1m' },
          { weight: 50, soak: '1m' },
        ],
      }),
    );
    await f.adopt();
    await f.setImage('app:2');
    await f.tickUntil((s) => s.phase === 'Progressing' && (s.canaryReplicas ?? 0) > 0, 1_000);
    const sampler = await sampleReadyPods(env.sandbox, f.namespace);
    // what served before the deletion: primary's and the canary's ready pods
    const before = sampler.samples[0] ?? 0;
    await autoscaling.deleteNamespacedHorizontalPodAutoscaler({ namespace: f.namespace, name: 'app' });
    // nobody scales the canary any more: the count the HPA last gave it (or Kubestead) is the one it had
    const canary = (await f.deployment('app')).spec?.replicas ?? 0;
    await f.tick();
    // primary keeps the count its HPA last gave it: nobody scales it any more
    const primary = (await f.deployment('app-primary')).spec?.replicas ?? 0;
    expect(primary).toBeGreaterThanOrEqual(2);
    expect((await autoscaling.listNamespacedHorizontalPodAutoscaler({ namespace: f.namespace })).items).toEqual([]);
    expect(await f.eventReasons()).toContain('AutoscalerRemoved');
    const after = await f.status();
    expect([after.phase, after.currentStep, after.autoscaler]).toEqual(['Progressing', 0, undefined]);
    // the canary keeps its pods while its step lasts, even above its share of primary's count (no HPA minimum any more)
    expect(after.canaryReplicas).toBe(canary);
    await f.clock.advance(10_000);
    await f.tick();
    expect((await f.status()).canaryReplicas).toBe(canary);
    expect((await f.deployment('app')).spec?.replicas).toBe(canary);
    expect((await f.deployment('app-primary')).spec?.replicas).toBe(primary);
    // the rollout goes on: the next step is the replica split of primary's count, nobody autoscaling it any more
    await f.clock.advance(61_000);
    const next = await f.tickUntil((s) => s.currentStep === 1, 1_000);
    expect(next.phase).toBe('Progressing');
    expect((await f.deployment('app-primary')).spec?.replicas).toBe(primary);
    expect((await f.deployment('app')).spec?.replicas).toBe(next.canaryReplicas);
    expect(next.canaryReplicas).toBeGreaterThanOrEqual(canary);
    await f.settle();
    const samples = await sampler.stop();
    expect(
      Math.min(...samples),
      `ready pods from the deletion to the next step: ${samples.join(' ')}`,
    ).toBeGreaterThanOrEqual(before);
  });

  it('a KEDA-like HPA made by another controller (its field manager, owned by a ScaledObject) is found and copied', async () => {
    const f = await env.fixture();
    await autoscaledApp(f, 4, '300m');
    // a ScaledObject-like owner: KEDA's operator owns the HPA it makes (keda-hpa-<name>)
    await env.sandbox
      .client(ApiextensionsV1Api)
      .createCustomResourceDefinition({ body: SCALED_OBJECT_CRD })
      .catch((error: unknown) => {
        if ((error as { code?: number }).code !== 409) throw error;
      });
    const owner = (await f.objects.createNamespacedCustomObject({
      group: 'keda.example.com',
      version: 'v1alpha1',
      namespace: f.namespace,
      plural: 'scaledobjects',
      body: {
        apiVersion: 'keda.example.com/v1alpha1',
        kind: 'ScaledObject',
        metadata: { name: 'app' },
        spec: { scaleTargetRef: { name: 'app' } },
      },
    })) as { metadata: { uid: string } };
    const keda = userHpa();
    keda.metadata = {
      name: 'keda-hpa-app',
      labels: { 'app.kubernetes.io/managed-by': 'keda-operator' },
      ownerReferences: [
        {
          apiVersion: 'keda.example.com/v1alpha1',
          kind: 'ScaledObject',
          name: 'app',
          uid: owner.metadata.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    };
    const autoscaling = env.sandbox.client(AutoscalingV2Api);
    await autoscaling.createNamespacedHorizontalPodAutoscaler({
      namespace: f.namespace,
      body: keda,
      fieldManager: 'keda-operator',
    });
    await waitFor(
      async () => (await hpaOf(f, 'keda-hpa-app')).status?.currentReplicas === 6,
      10_000,
      'the KEDA-like HPA to scale app to 6',
    );
    await f.settle();
    const sampler = await sampleReadyPods(env.sandbox, f.namespace);
    await f.applyPolicy(env.spec());
    const adopted = await f.adopt();
    const samples = await sampler.stop();
    expect(Math.min(...samples), `ready pods sampled during adoption: ${samples.join(' ')}`).toBeGreaterThanOrEqual(6);
    expect(adopted.autoscaler?.name).toBe('keda-hpa-app');
    const [copy, user] = [await hpaOf(f, 'app-primary'), await hpaOf(f, 'keda-hpa-app')];
    expect(copy.spec).toEqual({
      ...user.spec,
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'app-primary' },
    });
    expect(copy.metadata?.ownerReferences?.map((o) => o.kind)).toEqual(['RolloutPolicy']);
    // KEDA's HPA is not written: its manager and owner are KEDA's alone
    const kept = await hpaOf(f, 'keda-hpa-app');
    expect(kept.metadata?.ownerReferences?.map((o) => o.kind)).toEqual(['ScaledObject']);
    expect(kept.metadata?.managedFields?.map((m) => m.manager)).toEqual(
      user.metadata?.managedFields?.map((m) => m.manager),
    );
    expect((await f.deployment('app-primary')).spec?.replicas).toBe(6);
  });
});
