import { AppsV1Api, CoreV1Api, CustomObjectsApi, NetworkingV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWeightedRouter } from '../../src/adapters/routers/weighted.js';
import type { Sandbox } from '@kubestead/sandbox';
import { failureOf, testSandbox } from '../support/sandbox.js';
import { waitFor } from '../support/wait.js';
import { createApp, createPolicy, installPolicyCrd } from './support.js';

/** Which Service is the user's, and Kubestead's own two, with the nginx router (no CRDs needed). */
describe("the Services beside the user's", () => {
  let sandbox: Sandbox;
  let core: CoreV1Api;
  beforeAll(async () => {
    sandbox = await testSandbox();
    await installPolicyCrd(sandbox);
    core = sandbox.client(CoreV1Api);
  });
  afterAll(() => sandbox?.close());

  const routing = (service?: string) => ({
    nginx: { ingress: { name: 'checkout' }, ...(service ? { service: { name: service } } : {}) },
  });
  async function userIngress(namespace: string, service = 'checkout'): Promise<void> {
    await sandbox.client(NetworkingV1Api).createNamespacedIngress({
      namespace,
      body: {
        metadata: { name: 'checkout' },
        spec: {
          rules: [
            {
              http: {
                paths: [
                  { path: '/', pathType: 'Prefix', backend: { service: { name: service, port: { number: 80 } } } },
                ],
              },
            },
          ],
        },
      },
    });
  }

  it('needs a name when several Services select the pods, and checks the named one', async () => {
    const ns = 'svc-ambiguous';
    await createApp(sandbox, ns);
    await core.createNamespacedService({
      namespace: ns,
      body: {
        metadata: { name: 'checkout-internal' },
        spec: { selector: { app: 'checkout' }, ports: [{ port: 9090 }] },
      },
    });
    await userIngress(ns);
    const unnamed = createWeightedRouter('nginx', (await createPolicy(sandbox, ns, routing(), 'unnamed')).ctx);
    expect(await unnamed.prepare()).toEqual({
      reason: 'ServiceAmbiguous',
      message: `several Services select the pods of Deployment ${ns}/checkout (checkout, checkout-internal); name one in the policy's trafficRouting service`,
    });
    const wrong = createWeightedRouter('nginx', (await createPolicy(sandbox, ns, routing('payments'), 'wrong')).ctx);
    expect(await wrong.prepare()).toEqual({
      reason: 'ServiceMissing',
      message: `Service ${ns}/payments named by the policy does not exist`,
    });
    await core.createNamespacedService({
      namespace: ns,
      body: { metadata: { name: 'payments' }, spec: { selector: { app: 'payments' }, ports: [{ port: 80 }] } },
    });
    expect(await wrong.prepare()).toEqual({
      reason: 'ServiceMismatch',
      message: `Service ${ns}/payments (selector app=payments) does not select the pods of Deployment ${ns}/checkout`,
    });
    const named = createWeightedRouter('nginx', (await createPolicy(sandbox, ns, routing('checkout'), 'named')).ctx);
    expect(await named.prepare()).toBeNull();
  });

  it('says when no Service selects the pods, or the target is missing', async () => {
    const ns = 'svc-none';
    await createApp(sandbox, ns);
    await core.deleteNamespacedService({ name: 'checkout', namespace: ns });
    const router = createWeightedRouter('nginx', (await createPolicy(sandbox, ns, routing())).ctx);
    expect(await router.prepare()).toEqual({
      reason: 'ServiceMissing',
      message: `no Service in ${ns} selects the pods of Deployment ${ns}/checkout`,
    });
    await sandbox.client(AppsV1Api).deleteNamespacedDeployment({ name: 'checkout', namespace: ns });
    expect(await router.prepare()).toEqual({
      reason: 'TargetMissing',
      message: `Deployment ${ns}/checkout does not exist`,
    });
  });

  it("never takes over a Service of the same name that is not Kubestead's", async () => {
    const ns = 'svc-conflict';
    await createApp(sandbox, ns);
    await userIngress(ns);
    await core.createNamespacedService({
      namespace: ns,
      body: { metadata: { name: 'checkout-primary' }, spec: { selector: { tier: 'other' }, ports: [{ port: 80 }] } },
    });
    const router = createWeightedRouter('nginx', (await createPolicy(sandbox, ns, routing())).ctx);
    expect(await router.prepare()).toEqual({
      reason: 'ServiceConflict',
      message: `Service ${ns}/checkout-primary exists and is not Kubestead's; rename it or name another Service in the policy`,
    });
    expect((await core.readNamespacedService({ name: 'checkout-primary', namespace: ns })).spec?.selector).toEqual({
      tier: 'other',
    });
  });

  it('brings its Services back in line after a hand edit, and they go when the policy goes', async () => {
    const ns = 'svc-owned';
    await createApp(sandbox, ns);
    await userIngress(ns);
    const router = createWeightedRouter('nginx', (await createPolicy(sandbox, ns, routing())).ctx);
    expect(await router.prepare()).toBeNull();
    const canary = await core.readNamespacedService({ name: 'checkout-canary', namespace: ns });
    const pinned = canary.spec?.selector;
    canary.spec!.selector = { app: 'checkout' };
    canary.spec!.ports = [{ name: 'http', port: 81, targetPort: 8080, protocol: 'TCP' }];
    await core.replaceNamespacedService({ name: 'checkout-canary', namespace: ns, body: canary });
    expect(await router.prepare()).toBeNull();
    const repaired = await core.readNamespacedService({ name: 'checkout-canary', namespace: ns });
    expect(repaired.spec?.selector).toEqual(pinned);
    expect(repaired.spec?.ports).toEqual([{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }]);
    await sandbox.client(CustomObjectsApi).deleteNamespacedCustomObject({
      group: 'kubestead.io',
      version: 'v1alpha1',
      plural: 'rolloutpolicies',
      namespace: ns,
      name: 'checkout',
    });
    for (const name of ['checkout-primary', 'checkout-canary']) {
      await waitFor(
        async () => (await failureOf(core.readNamespacedService({ name, namespace: ns }))).code === 404,
        8000,
        `${name} to be collected`,
      );
    }
    expect((await core.readNamespacedService({ name: 'checkout', namespace: ns })).metadata?.name).toBe('checkout');
  });
});
