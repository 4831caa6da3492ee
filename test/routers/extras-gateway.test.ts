import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWeightedRouter } from '../../src/adapters/routers/weighted.js';
import type { Traffic } from '../../src/adapters/routers/router.js';
import { cookieRegex } from '../../src/pipeline/policy/strategies.js';
import type { Sandbox } from '@kubestead/sandbox';
import { testSandbox, type Body } from '../support/sandbox.js';
import { userRoute } from './user-objects.js';
import {
  createApp,
  createCustom,
  createStepPolicy,
  editCustom,
  getCustom,
  installCrds,
  startCanary,
  thirdPartyCrdsPresent,
} from './support.js';

/**
 * What the Gateway API router adds for A/B steps, mirror steps and session affinity (docs/strategies.md), written to
 * the sandbox against the published HTTPRoute CRD (its schema, defaults and CEL rules), and removed to the last field.
 */

const ROUTES = { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'httproutes' };
const REF = { group: '', kind: 'Service', port: 80 };

const ROUTING = { gatewayAPI: { httpRoute: { name: 'checkout' } } };
const PATH = { type: 'PathPrefix', value: '/checkout' };

async function started(sandbox: Sandbox, ns: string, steps: unknown[], routing: object = ROUTING) {
  await createApp(sandbox, ns);
  const { ctx } = await createStepPolicy(sandbox, ns, routing as Record<string, unknown>, steps);
  const router = createWeightedRouter('gatewayAPI', ctx);
  await createCustom(sandbox, { ...ROUTES, namespace: ns }, userRoute());
  const created = await getCustom(sandbox, { ...ROUTES, namespace: ns, name: 'checkout' });
  const hash = await startCanary(sandbox, ns, 'shop/checkout:2');
  expect(await router.prepare()).toBeNull();
  const live = async (): Promise<Body> =>
    (await getCustom(sandbox, { ...ROUTES, namespace: ns, name: 'checkout' })).spec;
  /** Rollback, finalize and release: the route exactly as the user created it. */
  const endsClean = async (): Promise<void> => {
    await router.setWeight(0);
    await router.finalize();
    const spec = await live();
    expect(spec.rules).toHaveLength(2);
    expect(spec.rules[0].filters).toEqual(created.spec.rules[0].filters);
    await router.release!();
    expect(await live()).toEqual(created.spec);
  };
  return { router, hash, ctx, live, endsClean };
}

const present = thirdPartyCrdsPresent();

describe.skipIf(!present)('Gateway API: A/B, mirror and session affinity', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await testSandbox();
    await installCrds(sandbox);
  });
  afterAll(() => sandbox?.close());

  it('an A/B step adds a named rule of its header matches to the canary backend, gone at the next step', async () => {
    const match = [{ headers: { 'x-canary': { exact: 'insider' } } }, { headers: { 'x-beta': { regex: '^v2' } } }];
    const { router, ctx, live, endsClean } = await started(sandbox, 'gw-ab', [{ match }, { weight: 25 }]);
    const traffic: Traffic = { weight: 0, match: ctx.target.spec.steps[0]!.match };
    await router.setTraffic(traffic);
    const rules = (await live()).rules;
    expect(rules).toHaveLength(3);
    expect(rules[0]).toMatchObject({
      name: 'kubestead-ab-rule-0',
      matches: [
        { path: PATH, headers: [{ type: 'Exact', name: 'x-canary', value: 'insider' }] },
        { path: PATH, headers: [{ type: 'RegularExpression', name: 'x-beta', value: '^v2' }] },
      ],
      backendRefs: [{ ...REF, name: 'checkout-canary' }],
    });
    expect(rules[0].filters).toEqual(rules[1].filters);
    expect(rules[1].backendRefs).toEqual([
      { ...REF, name: 'checkout-primary', weight: 100 },
      { ...REF, name: 'checkout-canary', weight: 0 },
    ]);
    expect((await router.getWeight([traffic])).carries).toBe(0);

    await editCustom(sandbox, { ...ROUTES, namespace: 'gw-ab', name: 'checkout' }, (route) => {
      route.spec.rules[0].matches[0].headers[0].value = 'everyone';
    });
    expect((await router.getWeight([traffic])).carries).toBe(-1);
    await router.setTraffic(traffic);
    expect((await router.getWeight([traffic])).carries).toBe(0);

    await router.setTraffic({ weight: 25 });
    expect((await live()).rules).toHaveLength(2);
    expect((await router.getWeight([{ weight: 25 }])).carries).toBe(0);
    await endsClean();
  });

  it('a mirror step adds a RequestMirror filter to the canary, with a fraction when the percent is not whole', async () => {
    const { router, live, endsClean } = await started(sandbox, 'gw-mirror', [{ mirror: 12.5 }]);
    await router.setTraffic({ weight: 0, mirror: 12.5 });
    expect((await live()).rules[0].filters).toEqual([
      { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-shop', value: 'checkout' }] } },
      {
        type: 'RequestMirror',
        requestMirror: {
          backendRef: { ...REF, name: 'checkout-canary' },
          fraction: { numerator: 125, denominator: 1000 },
        },
      },
    ]);
    expect((await router.getWeight([{ weight: 0, mirror: 12.5 }])).carries).toBe(0);
    await router.setTraffic({ weight: 0, mirror: 100 });
    expect((await live()).rules[0].filters[1].requestMirror.percent).toBe(100);
    await endsClean();
  });

  it('session affinity: a cookie rule to the canary, and the canary backend sets the cookie', async () => {
    const routing = { ...ROUTING, sessionAffinity: { cookieName: 'kubestead-canary', maxAge: '24h' } };
    const { router, hash, live, endsClean } = await started(sandbox, 'gw-affinity', [{ weight: 10 }], routing);
    await router.setTraffic({ weight: 10 });
    const rules = (await live()).rules;
    expect(rules[0]).toMatchObject({
      name: 'kubestead-affinity-rule-0',
      matches: [
        {
          path: PATH,
          headers: [{ type: 'RegularExpression', name: 'cookie', value: cookieRegex('kubestead-canary', hash) }],
        },
      ],
      backendRefs: [{ ...REF, name: 'checkout-canary' }],
    });
    expect(rules[1].backendRefs[1]).toEqual({
      ...REF,
      name: 'checkout-canary',
      weight: 10,
      filters: [
        {
          type: 'ResponseHeaderModifier',
          responseHeaderModifier: {
            add: [{ name: 'Set-Cookie', value: `kubestead-canary=${hash}; Max-Age=86400; Path=/` }],
          },
        },
      ],
    });
    expect((await router.getWeight([{ weight: 10 }])).carries).toBe(0);
    await router.setWeight(0);
    expect((await live()).rules).toHaveLength(2);
    await endsClean();
  });
});
