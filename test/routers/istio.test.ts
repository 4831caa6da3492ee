import {
  DestinationRule,
  type IDestinationRule,
} from '@kubernetes-models/istio/networking.istio.io/v1beta1/DestinationRule';
import {
  VirtualService,
  type IVirtualService,
} from '@kubernetes-models/istio/networking.istio.io/v1beta1/VirtualService';
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWeightedRouter } from '../../src/adapters/routers/weighted.js';
import type { Sandbox } from '@kubestead/sandbox';
import { testSandbox, type Body } from '../support/sandbox.js';
import {
  driftIsCorrected,
  expectOwnedServices,
  newTemplateMidStep,
  promote,
  releaseMidway,
  rollBack,
  startScenario,
  stepThrough,
  type RouterUnderTest,
} from './scenario.js';
import {
  createApp,
  createCustom,
  createPolicy,
  editCustom,
  getCustom,
  installCrds,
  startCanary,
  thirdPartyCrdsPresent,
} from './support.js';

const VS = { group: 'networking.istio.io', version: 'v1', plural: 'virtualservices' };
const DR = { group: 'networking.istio.io', version: 'v1', plural: 'destinationrules' };

/** The user's VirtualService, as Istio's traffic-shifting task writes one, with a second route Kubestead must not touch. */
function userVirtualService(): Body {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name: 'checkout' },
    spec: {
      hosts: ['checkout'],
      http: [
        {
          name: 'http-primary',
          match: [{ uri: { prefix: '/api' } }],
          retries: { attempts: 3, perTryTimeout: '2s', retryOn: '5xx' },
          timeout: '10s',
          headers: { request: { set: { 'x-shop': 'checkout' } } },
          mirror: { host: 'checkout-shadow' },
          mirrorPercentage: { value: 10 },
          route: [{ destination: { host: 'checkout', port: { number: 80 } } }],
        },
        { name: 'legacy', route: [{ destination: { host: 'legacy-checkout' } }] },
      ],
    },
  };
}

/** What the VirtualService must hold for a split: only http-primary's destinations change. */
function splitVirtualService(canary: number, primary: number): Body {
  const vs = userVirtualService();
  vs.spec.http[0].route = [
    { destination: { host: 'checkout-primary', port: { number: 80 } }, weight: primary },
    { destination: { host: 'checkout-canary', port: { number: 80 } }, weight: canary },
  ];
  return vs.spec;
}

const istio: RouterUnderTest = {
  kind: 'istio',
  trafficRouting: { istio: { virtualService: { name: 'checkout', routes: ['http-primary'] } } },
  createUserObjects: (sandbox, namespace) => createCustom(sandbox, { ...VS, namespace }, userVirtualService()),
  async liveSplit(sandbox, namespace) {
    const vs = await getCustom(sandbox, { ...VS, namespace, name: 'checkout' });
    const [primary, canary] = vs.spec.http[0].route;
    return { canary: canary.weight, primary: primary.weight };
  },
  handEdit: (sandbox, namespace, canary, primary) =>
    editCustom(sandbox, { ...VS, namespace, name: 'checkout' }, (vs) => {
      vs.spec.http[0].route[0].weight = primary;
      vs.spec.http[0].route[1].weight = canary;
    }),
};

const present = thirdPartyCrdsPresent();

/**
 * The object as the published models validate it: their last release for Node 20 has Istio's
 * v1beta1 classes, whose schema is v1's (Istio promoted the API to v1 unchanged).
 */
const asV1beta1 = (object: Body): Body => ({ ...object, apiVersion: 'networking.istio.io/v1beta1' });

describe.skipIf(!present)('Istio VirtualService router', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await testSandbox();
    await installCrds(sandbox);
  });
  afterAll(() => sandbox?.close());

  it('says what is missing until the VirtualService exists', async () => {
    await createApp(sandbox, 'istio-missing');
    const { ctx } = await createPolicy(sandbox, 'istio-missing', istio.trafficRouting);
    const router = createWeightedRouter('istio', ctx);
    expect(await router.prepare()).toEqual({
      reason: 'RouteMissing',
      message: 'VirtualService istio-missing/checkout does not exist',
    });
    const vs = userVirtualService();
    vs.spec.http[0].name = 'http-main';
    await createCustom(sandbox, { ...VS, namespace: 'istio-missing' }, vs);
    expect(await router.prepare()).toEqual({
      reason: 'RouteMissing',
      message:
        'VirtualService istio-missing/checkout has no HTTP route named "http-primary" (routes: http-main, legacy)',
    });
    await editCustom(sandbox, { ...VS, namespace: 'istio-missing', name: 'checkout' }, (live) => {
      live.spec.http[0].name = 'http-primary';
    });
    expect(await router.prepare()).toBeNull();
  });

  it('takes a canary through 0.5%, 5% and 50% to promotion, editing only the named route', async () => {
    const ns = 'istio-promote';
    const started = await startScenario(sandbox, istio, ns);
    await expectOwnedServices(sandbox, started, ns);
    await stepThrough(sandbox, istio, started, ns, [0.5]);
    const live = await getCustom(sandbox, { ...VS, namespace: ns, name: 'checkout' });
    expect(live.spec).toEqual(splitVirtualService(5, 995));
    expect(() => new VirtualService(asV1beta1(live) as IVirtualService).validate()).not.toThrow();
    expect(await started.router.getWeight()).toEqual({
      weight: 0.5,
      detail: 'VirtualService istio-promote/checkout: route "http-primary" canary 5/1000 (0.5%)',
    });
    await stepThrough(sandbox, istio, started, ns, [5, 50]);
    await promote(sandbox, started, ns);
    expect((await getCustom(sandbox, { ...VS, namespace: ns, name: 'checkout' })).spec).toEqual(
      splitVirtualService(0, 100),
    );
  });

  it('rolls a canary back from 0.5% to weight 0 on the live object', async () => {
    const ns = 'istio-rollback';
    const started = await startScenario(sandbox, istio, ns);
    await stepThrough(sandbox, istio, started, ns, [0.1, 0.5]);
    await rollBack(started);
    expect((await getCustom(sandbox, { ...VS, namespace: ns, name: 'checkout' })).spec).toEqual(
      splitVirtualService(0, 100),
    );
  });

  it('sees a hand edit of the weights and corrects it', async () => {
    const ns = 'istio-drift';
    const started = await startScenario(sandbox, istio, ns);
    await driftIsCorrected(sandbox, istio, started, ns);
  });

  it('with a DestinationRule, splits every HTTP route to the Service by subsets whose labels Kubestead sets', async () => {
    const ns = 'istio-subsets';
    await createApp(sandbox, ns);
    const routing = {
      istio: {
        virtualService: { name: 'checkout' },
        destinationRule: { name: 'checkout', stableSubsetName: 'stable', canarySubsetName: 'canary' },
      },
    };
    const { ctx } = await createPolicy(sandbox, ns, routing);
    const router = createWeightedRouter('istio', ctx);
    await createCustom(sandbox, { ...VS, namespace: ns }, userVirtualService());
    expect(await router.prepare()).toEqual({
      reason: 'RouteMissing',
      message: `DestinationRule ${ns}/checkout does not exist`,
    });
    const rule = {
      apiVersion: 'networking.istio.io/v1',
      kind: 'DestinationRule',
      metadata: { name: 'checkout' },
      spec: {
        host: 'checkout',
        trafficPolicy: { loadBalancer: { simple: 'LEAST_REQUEST' } },
        subsets: [
          { name: 'stable', labels: { version: 'v1' } },
          { name: 'canary', labels: { version: 'v2' } },
          { name: 'debug', labels: { debug: 'true' } },
        ],
      },
    };
    await createCustom(sandbox, { ...DR, namespace: ns }, rule);
    const hash = await startCanary(sandbox, ns, 'shop/checkout:2');
    expect(await router.prepare()).toBeNull();
    const dr = await getCustom(sandbox, { ...DR, namespace: ns, name: 'checkout' });
    expect(dr.spec).toEqual({
      ...rule.spec,
      subsets: [
        { name: 'stable', labels: { 'kubestead.io/role': 'primary' } },
        { name: 'canary', labels: { 'pod-template-hash': hash } },
        { name: 'debug', labels: { debug: 'true' } },
      ],
    });
    expect(() => new DestinationRule(asV1beta1(dr) as IDestinationRule).validate()).not.toThrow();
    await router.setWeight(0.5);
    const vs = await getCustom(sandbox, { ...VS, namespace: ns, name: 'checkout' });
    const expected = userVirtualService().spec;
    expected.http[0].route = [
      { destination: { host: 'checkout', port: { number: 80 }, subset: 'stable' }, weight: 995 },
      { destination: { host: 'checkout', port: { number: 80 }, subset: 'canary' }, weight: 5 },
    ];
    expect(vs.spec).toEqual(expected);
    expect((await router.getWeight()).weight).toBe(0.5);
    const canarySubsetHash = async (): Promise<unknown> =>
      (await getCustom(sandbox, { ...DR, namespace: ns, name: 'checkout' })).spec.subsets[1].labels[
        'pod-template-hash'
      ];
    await newTemplateMidStep(sandbox, { router, hash, ctx, owner: ctx.target.owner }, ns, canarySubsetHash);
    await rollBack({ router, hash, ctx, owner: ctx.target.owner });
  });

  it('refuses a route that also sends to another host', async () => {
    const ns = 'istio-mixed';
    await createApp(sandbox, ns);
    const { ctx } = await createPolicy(sandbox, ns, { istio: { virtualService: { name: 'checkout' } } });
    const vs = userVirtualService();
    (vs.spec.http[0].route as unknown[]).push({ destination: { host: 'payments' }, weight: 10 });
    await createCustom(sandbox, { ...VS, namespace: ns }, vs);
    expect(await createWeightedRouter('istio', ctx).prepare()).toEqual({
      reason: 'RouteMismatch',
      message: `VirtualService ${ns}/checkout route "http-primary" sends traffic to other hosts than Service checkout; Kubestead splits only routes to the target's Service`,
    });
  });

  it("gives the route back to the user's Service when the policy goes", async () => {
    const ns = 'istio-release';
    const started = await startScenario(sandbox, istio, ns);
    await releaseMidway(sandbox, istio, started, ns);
    expect((await getCustom(sandbox, { ...VS, namespace: ns, name: 'checkout' })).spec).toEqual(
      userVirtualService().spec,
    );
  });

  it('keeps the canary track on its ReplicaSet while it has traffic, and moves it once the weight is 0', async () => {
    const ns = 'istio-new-template';
    const started = await startScenario(sandbox, istio, ns);
    const core = sandbox.client(CoreV1Api);
    await newTemplateMidStep(
      sandbox,
      started,
      ns,
      async () =>
        (await core.readNamespacedService({ name: 'checkout-canary', namespace: ns })).spec?.selector?.[
          'pod-template-hash'
        ],
    );
  });
});
