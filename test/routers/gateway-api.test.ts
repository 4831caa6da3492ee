import { HTTPRoute, type IHTTPRoute } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWeightedRouter, RouterStateError } from '../../src/adapters/routers/weighted.js';
import type { Sandbox } from '@kubestead/sandbox';
import { failureOf, testSandbox, type Body } from '../support/sandbox.js';
import { userRoute } from './user-objects.js';
import {
  driftIsCorrected,
  expectOwnedServices,
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
  thirdPartyCrdsPresent,
} from './support.js';

const ROUTES = { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'httproutes' };

/** The live route with rules[0] split: the same refs (with the server's defaults) to Kubestead's two Services. */
function splitSpec(created: Body, canary: number, primary: number): Body {
  const spec = structuredClone(created.spec);
  const ref = spec.rules[0].backendRefs[0];
  spec.rules[0].backendRefs = [
    { ...ref, name: 'checkout-primary', weight: primary },
    { ...ref, name: 'checkout-canary', weight: canary },
  ];
  return spec;
}

const gatewayAPI: RouterUnderTest = {
  kind: 'gatewayAPI',
  trafficRouting: { gatewayAPI: { httpRoute: { name: 'checkout' } } },
  createUserObjects: (sandbox, namespace) => createCustom(sandbox, { ...ROUTES, namespace }, userRoute()),
  async liveSplit(sandbox, namespace) {
    const [primary, canary] = (await getCustom(sandbox, { ...ROUTES, namespace, name: 'checkout' })).spec.rules[0]
      .backendRefs;
    return { canary: canary.weight, primary: primary.weight };
  },
  handEdit: (sandbox, namespace, canary, primary) =>
    editCustom(sandbox, { ...ROUTES, namespace, name: 'checkout' }, (route) => {
      route.spec.rules[0].backendRefs[0].weight = primary;
      route.spec.rules[0].backendRefs[1].weight = canary;
    }),
};

const present = thirdPartyCrdsPresent();

describe.skipIf(!present)('Gateway API HTTPRoute router', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await testSandbox();
    await installCrds(sandbox);
  });
  afterAll(() => sandbox?.close());

  it('says what is missing until the HTTPRoute exists and points at the Service', async () => {
    const ns = 'gw-missing';
    await createApp(sandbox, ns);
    const { ctx } = await createPolicy(sandbox, ns, gatewayAPI.trafficRouting);
    const router = createWeightedRouter('gatewayAPI', ctx);
    expect(await router.prepare()).toEqual({
      reason: 'RouteMissing',
      message: `HTTPRoute ${ns}/checkout does not exist`,
    });
    const route = userRoute();
    route.spec.rules[0].backendRefs[0].name = 'checkout-v1';
    await createCustom(sandbox, { ...ROUTES, namespace: ns }, route);
    expect(await router.prepare()).toEqual({
      reason: 'RouteMismatch',
      message: `HTTPRoute ${ns}/checkout has no rule with a backendRef to Service checkout`,
    });
    expect(
      (await failureOf(sandbox.client(CoreV1Api).readNamespacedService({ name: 'checkout-primary', namespace: ns })))
        .code,
    ).toBe(404);
    await editCustom(sandbox, { ...ROUTES, namespace: ns, name: 'checkout' }, (live) => {
      live.spec.rules[0].backendRefs[0].name = 'checkout';
    });
    expect(await router.prepare()).toBeNull();
  });

  it('takes a canary through 0.5%, 5% and 50% to promotion; the other rule and fields stay as they were', async () => {
    const ns = 'gw-promote';
    const started = await startScenario(sandbox, gatewayAPI, ns);
    const created = await getCustom(sandbox, { ...ROUTES, namespace: ns, name: 'checkout' });
    await expectOwnedServices(sandbox, started, ns);
    await stepThrough(sandbox, gatewayAPI, started, ns, [0.5]);
    const live = await getCustom(sandbox, { ...ROUTES, namespace: ns, name: 'checkout' });
    expect(live.spec).toEqual(splitSpec(created, 5, 995));
    expect(() => new HTTPRoute(live as IHTTPRoute).validate()).not.toThrow();
    expect((await started.router.getWeight()).detail).toBe(`HTTPRoute ${ns}/checkout: rules[0] canary 5/1000 (0.5%)`);
    await stepThrough(sandbox, gatewayAPI, started, ns, [5, 50, 0.0001]);
    await promote(sandbox, started, ns);
    expect((await getCustom(sandbox, { ...ROUTES, namespace: ns, name: 'checkout' })).spec).toEqual(
      splitSpec(created, 0, 100),
    );
  });

  it('rolls a canary back from 0.5% to weight 0', async () => {
    const ns = 'gw-rollback';
    const started = await startScenario(sandbox, gatewayAPI, ns);
    const created = await getCustom(sandbox, { ...ROUTES, namespace: ns, name: 'checkout' });
    await stepThrough(sandbox, gatewayAPI, started, ns, [0.5]);
    await rollBack(started);
    expect((await getCustom(sandbox, { ...ROUTES, namespace: ns, name: 'checkout' })).spec).toEqual(
      splitSpec(created, 0, 100),
    );
  });

  it('sees a hand edit of the weights and corrects it', async () => {
    const ns = 'gw-drift';
    await driftIsCorrected(sandbox, gatewayAPI, await startScenario(sandbox, gatewayAPI, ns), ns);
  });

  it("gives the rule back to the user's Service when the policy goes", async () => {
    const ns = 'gw-release';
    const started = await startScenario(sandbox, gatewayAPI, ns);
    const created = await getCustom(sandbox, { ...ROUTES, namespace: ns, name: 'checkout' });
    await releaseMidway(sandbox, gatewayAPI, started, ns);
    expect((await getCustom(sandbox, { ...ROUTES, namespace: ns, name: 'checkout' })).spec).toEqual(created.spec);
  });

  it('retries a write that lost a race, surfaces other API failures, and says when the route is gone', async () => {
    const ns = 'gw-faults';
    const started = await startScenario(sandbox, gatewayAPI, ns);
    const path = `/apis/gateway.networking.k8s.io/v1/namespaces/${ns}/httproutes/checkout`;
    const fired = sandbox.faults.fired;
    sandbox.faults.inject({ method: 'PUT', path, respond: 409, times: 1 });
    await started.router.setWeight(0.5);
    expect(sandbox.faults.fired).toBe(fired + 1);
    expect(await gatewayAPI.liveSplit(sandbox, ns)).toEqual({ canary: 5, primary: 995 });
    sandbox.faults.inject({ method: 'PUT', path, respond: 503, times: 1 });
    await expect(started.router.setWeight(5)).rejects.toThrow();
    expect((await started.router.getWeight()).weight).toBe(0.5);
    await sandbox.client(CustomObjectsApi).deleteNamespacedCustomObject({ ...ROUTES, namespace: ns, name: 'checkout' });
    await expect(started.router.getWeight()).rejects.toThrow(
      new RouterStateError({ reason: 'RouteMissing', message: `HTTPRoute ${ns}/checkout does not exist` }),
    );
    expect(await started.router.prepare()).toEqual({
      reason: 'RouteMissing',
      message: `HTTPRoute ${ns}/checkout does not exist`,
    });
  });
});
