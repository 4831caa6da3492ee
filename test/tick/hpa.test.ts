import { AutoscalingV2Api, type V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { CPU_LOAD_ANNOTATION } from '@kubestead/sandbox';
import { renderPolicy, type PolicyView } from '../../src/tools/view/policy-view.js';
import { waitFor } from '../support/wait.js';
import { scenario } from './scenario.js';
import type { TickFixture } from './support.js';

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
});
