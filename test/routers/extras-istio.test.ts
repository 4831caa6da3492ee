import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWeightedRouter } from '../../src/adapters/routers/weighted.js';
import type { Traffic, TrafficRouter } from '../../src/adapters/routers/router.js';
import { cookieRegex } from '../../src/pipeline/policy/strategies.js';
import type { Sandbox } from '@kubestead/sandbox';
import { testSandbox, type Body } from '../support/sandbox.js';
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
 * What the Istio router adds for A/B steps, mirror steps and session affinity (docs/strategies.md), written to the
 * sandbox against Istio's published CRD (its schema and rules), read back exactly, and removed to the last field.
 */

const VS = { group: 'networking.istio.io', version: 'v1', plural: 'virtualservices' };
const CANARY = { host: 'checkout-canary', port: { number: 80 } };
const PRIMARY = { host: 'checkout-primary', port: { number: 80 } };

/** The user's VirtualService: a route to the app with its own match, retries and headers, and a route elsewhere. */
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
          retries: { attempts: 3, perTryTimeout: '2s' },
          headers: { request: { set: { 'x-shop': 'checkout' } } },
          route: [{ destination: { host: 'checkout', port: { number: 80 } } }],
        },
        { name: 'legacy', route: [{ destination: { host: 'legacy-checkout' } }] },
      ],
    },
  };
}

/** The user's route split at canary/primary (the integers of 100). */
function splitRoute(canary: number): Body {
  const route = userVirtualService().spec.http[0];
  return {
    ...route,
    route: [
      { destination: PRIMARY, weight: 100 - canary },
      { destination: CANARY, weight: canary },
    ],
  };
}

const MATCH = [{ headers: { 'x-canary': { exact: 'insider' } } }, { cookie: { name: 'canary', value: 'always' } }];
const ROUTING = { istio: { virtualService: { name: 'checkout', routes: ['http-primary'] } } };

async function started(sandbox: Sandbox, ns: string, steps: unknown[], routing: object = ROUTING) {
  await createApp(sandbox, ns);
  const { ctx } = await createStepPolicy(sandbox, ns, routing as Record<string, unknown>, steps);
  const router = createWeightedRouter('istio', ctx);
  await createCustom(sandbox, { ...VS, namespace: ns }, userVirtualService());
  const hash = await startCanary(sandbox, ns, 'shop/checkout:2');
  expect(await router.prepare()).toBeNull();
  return { router, hash, ctx, live: () => getCustom(sandbox, { ...VS, namespace: ns, name: 'checkout' }) };
}

/** The end of a rollout and the policy's deletion leave the user's VirtualService exactly as it was. */
async function endsClean(router: TrafficRouter, live: () => Promise<Body>): Promise<void> {
  await router.setWeight(0);
  await router.finalize();
  expect((await live()).spec.http).toEqual([splitRoute(0), userVirtualService().spec.http[1]]);
  await router.release!();
  expect((await live()).spec).toEqual(userVirtualService().spec);
}

const present = thirdPartyCrdsPresent();

describe.skipIf(!present)('Istio: A/B, mirror and session affinity', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await testSandbox();
    await installCrds(sandbox);
  });
  afterAll(() => sandbox?.close());

  it('an A/B step adds a route of its matches to the canary before the split route, gone at the next step', async () => {
    const { router, ctx, live } = await started(sandbox, 'istio-ab', [{ match: MATCH }, { weight: 25 }]);
    const traffic: Traffic = { weight: 0, match: ctx.target.spec.steps[0]!.match };
    await router.setTraffic(traffic);
    const user = userVirtualService().spec.http[0];
    const ab = {
      ...user,
      name: 'kubestead-ab-http-primary',
      match: [
        { uri: { prefix: '/api' }, headers: { 'x-canary': { exact: 'insider' } } },
        { uri: { prefix: '/api' }, headers: { cookie: { regex: cookieRegex('canary', 'always') } } },
      ],
      route: [{ destination: CANARY }],
    };
    expect((await live()).spec.http).toEqual([ab, splitRoute(0), userVirtualService().spec.http[1]]);
    expect(await router.getWeight([{ weight: 0 }, traffic])).toMatchObject({ weight: 0, carries: 1 });

    await editCustom(sandbox, { ...VS, namespace: 'istio-ab', name: 'checkout' }, (vs) => {
      vs.spec.http[0].match[0].headers['x-canary'] = { exact: 'everyone' };
    });
    expect((await router.getWeight([traffic])).carries).toBe(-1);
    await router.setTraffic(traffic);
    expect((await router.getWeight([traffic])).carries).toBe(0);

    await router.setTraffic({ weight: 25 });
    expect((await live()).spec.http).toEqual([splitRoute(25), userVirtualService().spec.http[1]]);
    expect((await router.getWeight([{ weight: 25 }])).carries).toBe(0);
    await endsClean(router, live);
  });

  it('a mirror step adds a mirrors entry to the canary at its percent; a route mirrored with "mirror" is refused', async () => {
    const { router, live } = await started(sandbox, 'istio-mirror', [{ mirror: 50 }, { weight: 10 }]);
    await router.setTraffic({ weight: 0, mirror: 50 });
    expect((await live()).spec.http[0]).toEqual({
      ...splitRoute(0),
      mirrors: [{ destination: CANARY, percentage: { value: 50 } }],
    });
    expect((await router.getWeight([{ weight: 0, mirror: 50 }])).carries).toBe(0);
    expect((await router.getWeight([{ weight: 0, mirror: 100 }])).carries).toBe(-1);
    await endsClean(router, live);

    await editCustom(sandbox, { ...VS, namespace: 'istio-mirror', name: 'checkout' }, (vs) => {
      vs.spec.http[0].mirror = { host: 'checkout-shadow' };
    });
    expect(await router.prepare()).toEqual({
      reason: 'RouteConflict',
      message:
        'VirtualService istio-mirror/checkout route "http-primary" mirrors with "mirror"; the policy\'s mirror step ' +
        'adds to "mirrors", and Istio takes one of the two: write yours as mirrors: [{destination: …}]',
    });
  });

  it('session affinity: the canary answers set the cookie, a route of the cookie goes to the canary while it has weight', async () => {
    const routing = { ...ROUTING, sessionAffinity: { cookieName: 'kubestead-canary', maxAge: '1h' } };
    const { router, hash, live } = await started(sandbox, 'istio-affinity', [{ weight: 10 }], routing);
    await router.setTraffic({ weight: 10 });
    const user = userVirtualService().spec.http[0];
    const cookie = `kubestead-canary=${hash}; Max-Age=3600; Path=/`;
    const split = splitRoute(10);
    split.route[1] = { ...split.route[1], headers: { response: { add: { 'Set-Cookie': cookie } } } };
    expect((await live()).spec.http).toEqual([
      {
        ...user,
        name: 'kubestead-affinity-http-primary',
        match: [{ uri: { prefix: '/api' }, headers: { cookie: { regex: cookieRegex('kubestead-canary', hash) } } }],
        route: [{ destination: CANARY }],
      },
      split,
      userVirtualService().spec.http[1],
    ]);
    expect((await router.getWeight([{ weight: 10 }])).carries).toBe(0);
    await endsClean(router, live);
  });
});
