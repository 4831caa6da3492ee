import { NetworkingV1Api, type V1Deployment, type V1Ingress, type V1Service } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { failureOf } from '../support/sandbox.js';
import { scenario } from './scenario.js';
import { GROUP, imageOf, type TickFixture } from './support.js';

const env = scenario();

/** The user's Service of `app` and an Ingress as ingress-nginx's docs write one: the app's path and another app's. */
const userService = (): V1Service => ({
  metadata: { name: 'app', labels: { team: 'shop' } },
  spec: { selector: { app: 'app' }, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] },
});
const userIngress = (): V1Ingress => {
  const path = (p: string, service: string) => ({
    path: p,
    pathType: 'Prefix',
    backend: { service: { name: service, port: { number: 80 } } },
  });
  return {
    metadata: { name: 'app', annotations: { 'nginx.ingress.kubernetes.io/proxy-body-size': '8m' } },
    spec: {
      ingressClassName: 'nginx',
      rules: [{ host: 'shop.example.com', http: { paths: [path('/app', 'app'), path('/static', 'static')] } }],
    },
  };
};

async function gone(call: Promise<unknown>): Promise<number> {
  return (await failureOf(call)).code;
}

/** The routing as it stands: the canary Ingress's weight (404: absent), the Services, where the user's Ingress sends the app's path. */
async function routingOf(
  f: TickFixture,
  networking: NetworkingV1Api,
): Promise<{ canaryWeight: string | number | undefined; services: string[]; userBackend: string | undefined }> {
  const canary = await networking
    .readNamespacedIngress({ namespace: f.namespace, name: 'app-canary' })
    .catch(() => undefined);
  const canaryWeight = canary
    ? canary.metadata?.annotations?.['nginx.ingress.kubernetes.io/canary-weight']
    : await gone(networking.readNamespacedIngress({ namespace: f.namespace, name: 'app-canary' }));
  const services = (await f.core.listNamespacedService({ namespace: f.namespace })).items
    .map((s) => s.metadata?.name ?? '')
    .sort();
  const user = await networking.readNamespacedIngress({ namespace: f.namespace, name: 'app' });
  return { canaryWeight, services, userBackend: user.spec?.rules?.[0]?.http?.paths[0]?.backend.service?.name };
}

/** What a test compares of the user's Service: untouched means the same labels, spec and resourceVersion. */
const shown = (service: V1Service) => ({
  labels: service.metadata?.labels,
  spec: service.spec,
  resourceVersion: service.metadata?.resourceVersion,
});
const shownTarget = (target: V1Deployment) => ({ replicas: target.spec?.replicas, image: imageOf(target) });

/** Deletes the policy and ticks (letting the sandbox's pods become ready) until its finalizer is removed. */
async function deletePolicy(f: TickFixture): Promise<void> {
  await f.objects.deleteNamespacedCustomObject({ ...GROUP, namespace: f.namespace, name: 'app' });
  for (let i = 0; i < 20; i++) {
    const exists = await f.objects.getNamespacedCustomObject({ ...GROUP, namespace: f.namespace, name: 'app' }).then(
      () => true,
      () => false,
    );
    if (!exists) return;
    await f.tick();
    await f.settle();
  }
  throw new Error('the policy was never released by its finalizer');
}

describe('hand-back on deletion releases what the router set up', () => {
  it("ingress-nginx: the canary Ingress and Kubestead's Services are deleted, the user's Ingress and Service are as they were", async () => {
    const f = await env.fixture();
    const networking = env.sandbox.client(NetworkingV1Api);
    await f.createDeployment('app', 'app:1', 4);
    await f.core.createNamespacedService({ namespace: f.namespace, body: userService() });
    await networking.createNamespacedIngress({ namespace: f.namespace, body: userIngress() });
    const serviceBefore = await f.core.readNamespacedService({ namespace: f.namespace, name: 'app' });
    await f.settle();
    await f.applyPolicy(env.spec({ trafficRouting: { nginx: { ingress: { name: 'app' } } } }));
    await f.adopt();
    await f.setImage('app:2');
    const progressing = await f.tickUntil((s) => (s.effectiveWeight ?? 0) > 0, 1000);
    expect(progressing).toMatchObject({ phase: 'Progressing', currentStep: 0, effectiveWeight: 20 });
    // Mid-canary: Kubestead's objects exist and the user's Ingress sends to app-primary.
    expect(await routingOf(f, networking)).toEqual({
      canaryWeight: '20',
      services: ['app', 'app-canary', 'app-primary'],
      userBackend: 'app-primary',
    });

    await deletePolicy(f);

    expect(await routingOf(f, networking)).toEqual({ canaryWeight: 404, services: ['app'], userBackend: 'app' });
    expect(await gone(f.apps.readNamespacedDeployment({ namespace: f.namespace, name: 'app-primary' }))).toBe(404);
    const ingress = await networking.readNamespacedIngress({ namespace: f.namespace, name: 'app' });
    expect({ spec: ingress.spec, annotations: ingress.metadata?.annotations }).toEqual({
      spec: userIngress().spec,
      annotations: userIngress().metadata?.annotations,
    });
    expect(shown(await f.core.readNamespacedService({ namespace: f.namespace, name: 'app' }))).toEqual(
      shown(serviceBefore),
    );
    // a canary was running: the hand-back rolled it back to the stable template (docs/operating.md)
    expect(shownTarget(await f.deployment('app'))).toEqual({ replicas: 4, image: 'app:1' });
  }, 60_000);

  it("replica split: primary (the one object Kubestead made) is deleted, the user's Service is untouched", async () => {
    const f = await env.fixture();
    await f.createDeployment('app', 'app:1', 3);
    await f.core.createNamespacedService({ namespace: f.namespace, body: userService() });
    const serviceBefore = await f.core.readNamespacedService({ namespace: f.namespace, name: 'app' });
    await f.settle();
    await f.applyPolicy(env.spec());
    await f.adopt();
    await f.setImage('app:2');
    await f.tick();
    await f.settle();

    await deletePolicy(f);

    expect(await gone(f.apps.readNamespacedDeployment({ namespace: f.namespace, name: 'app-primary' }))).toBe(404);
    const services = (await f.core.listNamespacedService({ namespace: f.namespace })).items.map(
      (s) => s.metadata?.name,
    );
    expect(services).toEqual(['app']);
    expect(
      (await f.core.readNamespacedService({ namespace: f.namespace, name: 'app' })).metadata?.resourceVersion,
    ).toBe(serviceBefore.metadata?.resourceVersion);
    // rolled back to the stable template first (docs/operating.md)
    expect(shownTarget(await f.deployment('app'))).toEqual({ replicas: 3, image: 'app:1' });
  });
});
