import { NetworkingV1Api, type V1Ingress } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWeightedRouter } from '../../src/adapters/routers/weighted.js';
import type { Sandbox } from '@kubestead/sandbox';
import { failureOf, testSandbox } from '../support/sandbox.js';
import {
  driftIsCorrected,
  expectOwnedServices,
  promote,
  releaseMidway,
  rollBack,
  startScenario,
  stepThrough,
  type RouterUnderTest,
  type Started,
} from './scenario.js';
import { createApp, createPolicy, installPolicyCrd } from './support.js';

const CANARY = 'nginx.ingress.kubernetes.io/canary';
const WEIGHT = 'nginx.ingress.kubernetes.io/canary-weight';
const TOTAL = 'nginx.ingress.kubernetes.io/canary-weight-total';

/** An Ingress as ingress-nginx's docs write one: the app's path, another app's path, TLS. */
function userIngress(): V1Ingress {
  const path = (p: string, service: string) => ({
    path: p,
    pathType: 'Prefix',
    backend: { service: { name: service, port: { number: 80 } } },
  });
  return {
    metadata: { name: 'checkout', annotations: { 'nginx.ingress.kubernetes.io/proxy-body-size': '8m' } },
    spec: {
      ingressClassName: 'nginx',
      tls: [{ hosts: ['shop.example.com'], secretName: 'shop-tls' }],
      rules: [
        { host: 'shop.example.com', http: { paths: [path('/checkout', 'checkout'), path('/static', 'static')] } },
      ],
    },
  };
}

const read = (sandbox: Sandbox, namespace: string, name: string) =>
  sandbox.client(NetworkingV1Api).readNamespacedIngress({ name, namespace });

const nginx: RouterUnderTest = {
  kind: 'nginx',
  trafficRouting: { nginx: { ingress: { name: 'checkout' } } },
  createUserObjects: async (sandbox, namespace) => {
    await sandbox.client(NetworkingV1Api).createNamespacedIngress({ namespace, body: userIngress() });
  },
  async liveSplit(sandbox, namespace) {
    const annotations = (await read(sandbox, namespace, 'checkout-canary')).metadata?.annotations ?? {};
    return { canary: Number(annotations[WEIGHT]), primary: Number(annotations[TOTAL]) - Number(annotations[WEIGHT]) };
  },
  async handEdit(sandbox, namespace, canary, primary) {
    const ingress = await read(sandbox, namespace, 'checkout-canary');
    ingress.metadata!.annotations = {
      ...ingress.metadata!.annotations,
      [WEIGHT]: String(canary),
      [TOTAL]: String(canary + primary),
    };
    await sandbox
      .client(NetworkingV1Api)
      .replaceNamespacedIngress({ name: 'checkout-canary', namespace, body: ingress });
  },
};

/** The user's Ingress once Kubestead splits it: the app's path to checkout-primary, the rest as it was. */
async function expectUserIngressOnPrimary(sandbox: Sandbox, namespace: string): Promise<void> {
  const live = await read(sandbox, namespace, 'checkout');
  const expected = userIngress();
  expected.spec!.rules![0]!.http!.paths[0]!.backend.service!.name = 'checkout-primary';
  expect(live.spec).toEqual(expected.spec);
  expect(live.metadata?.annotations).toEqual(userIngress().metadata?.annotations);
}

async function expectCanaryGone(sandbox: Sandbox, started: Started, namespace: string): Promise<void> {
  expect((await failureOf(read(sandbox, namespace, 'checkout-canary'))).code).toBe(404);
  expect(await started.router.getWeight()).toEqual({
    weight: 0,
    detail: `Ingress ${namespace}/checkout-canary: absent, canary 0%`,
  });
  await expectUserIngressOnPrimary(sandbox, namespace);
}

describe('ingress-nginx canary router', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await testSandbox();
    await installPolicyCrd(sandbox);
  });
  afterAll(() => sandbox?.close());

  it('says what is missing until the Ingress exists and reaches the Service', async () => {
    const ns = 'nginx-missing';
    await createApp(sandbox, ns);
    const { ctx } = await createPolicy(sandbox, ns, nginx.trafficRouting);
    const router = createWeightedRouter('nginx', ctx);
    expect(await router.prepare()).toEqual({
      reason: 'RouteMissing',
      message: `Ingress ${ns}/checkout does not exist`,
    });
    const ingress = userIngress();
    ingress.spec!.rules![0]!.http!.paths = ingress.spec!.rules![0]!.http!.paths.slice(1);
    await sandbox.client(NetworkingV1Api).createNamespacedIngress({ namespace: ns, body: ingress });
    expect(await router.prepare()).toEqual({
      reason: 'RouteMismatch',
      message: `Ingress ${ns}/checkout has no backend to Service checkout`,
    });
    await sandbox.client(NetworkingV1Api).replaceNamespacedIngress({
      name: 'checkout',
      namespace: ns,
      body: { ...(await read(sandbox, ns, 'checkout')), spec: userIngress().spec },
    });
    expect(await router.prepare()).toBeNull();
  });

  it('takes a canary through 0.5%, 5% and 50% to promotion with a copied canary Ingress, deleted at the end', async () => {
    const ns = 'nginx-promote';
    const started = await startScenario(sandbox, nginx, ns);
    await expectOwnedServices(sandbox, started, ns);
    await stepThrough(sandbox, nginx, started, ns, [0.5]);
    const canary = await read(sandbox, ns, 'checkout-canary');
    expect(canary.metadata?.annotations).toEqual({
      'nginx.ingress.kubernetes.io/proxy-body-size': '8m',
      [CANARY]: 'true',
      [WEIGHT]: '5',
      [TOTAL]: '1000',
    });
    expect(canary.metadata?.labels).toEqual({ 'app.kubernetes.io/managed-by': 'kubestead' });
    expect(canary.metadata?.ownerReferences).toEqual([started.owner]);
    const canarySpec = userIngress().spec!;
    canarySpec.rules![0]!.http!.paths = [
      {
        path: '/checkout',
        pathType: 'Prefix',
        backend: { service: { name: 'checkout-canary', port: { number: 80 } } },
      },
    ];
    expect(canary.spec).toEqual(canarySpec);
    await expectUserIngressOnPrimary(sandbox, ns);
    expect((await started.router.getWeight()).detail).toBe(`Ingress ${ns}/checkout-canary: canary 5/1000 (0.5%)`);
    await stepThrough(sandbox, nginx, started, ns, [5, 50, 0.0000001]);
    await promote(sandbox, started, ns);
    await expectCanaryGone(sandbox, started, ns);
  });

  it('rolls a canary back from 0.5%: weight 0 read back, then the canary Ingress is deleted', async () => {
    const ns = 'nginx-rollback';
    const started = await startScenario(sandbox, nginx, ns);
    await stepThrough(sandbox, nginx, started, ns, [0.5]);
    await rollBack(started);
    await expectCanaryGone(sandbox, started, ns);
  });

  it('sees a hand edit of the canary weight and corrects it', async () => {
    const ns = 'nginx-drift';
    await driftIsCorrected(sandbox, nginx, await startScenario(sandbox, nginx, ns), ns);
  });

  it("refuses to take over a canary Ingress that is not Kubestead's", async () => {
    const ns = 'nginx-conflict';
    await createApp(sandbox, ns);
    const { ctx } = await createPolicy(sandbox, ns, nginx.trafficRouting);
    await nginx.createUserObjects(sandbox, ns);
    await sandbox
      .client(NetworkingV1Api)
      .createNamespacedIngress({ namespace: ns, body: { ...userIngress(), metadata: { name: 'checkout-canary' } } });
    expect(await createWeightedRouter('nginx', ctx).prepare()).toEqual({
      reason: 'RouteConflict',
      message: `Ingress ${ns}/checkout-canary exists and is not Kubestead's`,
    });
  });

  it("gives the Ingress back to the user's Service and deletes the canary Ingress when the policy goes", async () => {
    const ns = 'nginx-release';
    const started = await startScenario(sandbox, nginx, ns);
    await releaseMidway(sandbox, nginx, started, ns);
    expect((await failureOf(read(sandbox, ns, 'checkout-canary'))).code).toBe(404);
    const user = await read(sandbox, ns, 'checkout');
    expect(user.spec).toEqual(userIngress().spec);
    expect(user.metadata?.annotations).toEqual(userIngress().metadata?.annotations);
  });
});
