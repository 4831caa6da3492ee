import { AutoscalingV2Api, type V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
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

async function hpaOf(f: TickFixture, name: string): Promise<V2HorizontalPodAutoscaler> {
  return env.sandbox.client(AutoscalingV2Api).readNamespacedHorizontalPodAutoscaler({ namespace: f.namespace, name });
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
    await waitFor(async () => (await hpaOf(f, 'app-primary')).status?.currentReplicas === 6, 10_000, "primary's HPA");
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
      "the user's HPA scaling app again",
    );
  });
});
