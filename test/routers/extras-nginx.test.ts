import { NetworkingV1Api, type V1Ingress } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWeightedRouter } from '../../src/adapters/routers/weighted.js';
import type { Traffic } from '../../src/adapters/routers/router.js';
import type { Sandbox } from '@kubestead/sandbox';
import { failureOf, testSandbox } from '../support/sandbox.js';
import { createApp, createStepPolicy, installPolicyCrd, startCanary } from './support.js';

/**
 * What the nginx router adds for A/B and mirror steps (docs/strategies.md): the canary Ingress's canary-by-header and
 * canary-by-cookie at weight 0, and the user's Ingress's mirror-target; all of it gone at the end.
 */

const A = 'nginx.ingress.kubernetes.io/';
const ROUTING = { nginx: { ingress: { name: 'checkout' } } };

function userIngress(paths: Array<[string, string]>): V1Ingress {
  return {
    metadata: { name: 'checkout', annotations: { [`${A}proxy-body-size`]: '8m' } },
    spec: {
      ingressClassName: 'nginx',
      rules: [
        {
          host: 'shop.example.com',
          http: {
            paths: paths.map(([path, service]) => ({
              path,
              pathType: 'Prefix',
              backend: { service: { name: service, port: { number: 80 } } },
            })),
          },
        },
      ],
    },
  };
}

async function started(sandbox: Sandbox, ns: string, steps: unknown[], paths: Array<[string, string]>) {
  await createApp(sandbox, ns);
  const { ctx } = await createStepPolicy(sandbox, ns, ROUTING, steps);
  const router = createWeightedRouter('nginx', ctx);
  const networking = sandbox.client(NetworkingV1Api);
  await networking.createNamespacedIngress({ namespace: ns, body: userIngress(paths) });
  await startCanary(sandbox, ns, 'shop/checkout:2');
  const read = (name: string) => networking.readNamespacedIngress({ name, namespace: ns });
  return { router, ctx, read, networking };
}

describe('nginx: A/B and mirror', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await testSandbox();
    await installPolicyCrd(sandbox);
  });
  afterAll(() => sandbox?.close());

  it('an A/B step is canary-by-header and canary-by-cookie at weight 0; the next step and the end remove them', async () => {
    const match = [{ headers: { 'x-canary': { regex: '^insider|staff$' } } }, { cookie: { name: 'canary' } }];
    const ns = 'nginx-ab';
    const { router, ctx, read } = await started(sandbox, ns, [{ match }, { weight: 25 }], [['/checkout', 'checkout']]);
    expect(await router.prepare()).toBeNull();
    const traffic: Traffic = { weight: 0, match: ctx.target.spec.steps[0]!.match };
    await router.setTraffic(traffic);
    expect((await read('checkout-canary')).metadata?.annotations).toEqual({
      [`${A}proxy-body-size`]: '8m',
      [`${A}canary`]: 'true',
      [`${A}canary-by-header`]: 'x-canary',
      [`${A}canary-by-header-pattern`]: '^insider|staff$',
      [`${A}canary-by-cookie`]: 'canary',
      [`${A}canary-weight`]: '0',
      [`${A}canary-weight-total`]: '100',
    });
    expect(await router.getWeight([traffic])).toMatchObject({ weight: 0, carries: 0 });
    expect((await router.getWeight([{ weight: 0 }])).carries).toBe(-1);

    await router.setTraffic({ weight: 25 });
    const annotations = (await read('checkout-canary')).metadata?.annotations ?? {};
    expect(Object.keys(annotations).filter((k) => k.includes('canary-by'))).toEqual([]);
    expect(annotations[`${A}canary-weight`]).toBe('25');
    await router.setWeight(0);
    await router.finalize();
    expect((await failureOf(read('checkout-canary'))).code).toBe(404);
    await router.release!();
    const user = await read('checkout');
    expect(user.metadata?.annotations).toEqual(userIngress([]).metadata?.annotations);
    expect(user.spec).toEqual(userIngress([['/checkout', 'checkout']]).spec);
  });

  it("a mirror step is the user's Ingress's mirror-target to the canary Service, removed at the end", async () => {
    const ns = 'nginx-mirror';
    const { router, read } = await started(sandbox, ns, [{ mirror: 100 }], [['/checkout', 'checkout']]);
    expect(await router.prepare()).toBeNull();
    await router.setTraffic({ weight: 0, mirror: 100 });
    expect((await read('checkout')).metadata?.annotations).toEqual({
      [`${A}proxy-body-size`]: '8m',
      [`${A}mirror-target`]: `http://checkout-canary.${ns}.svc.cluster.local:80$request_uri`,
    });
    expect((await router.getWeight([{ weight: 0, mirror: 100 }])).carries).toBe(0);
    await router.finalize();
    expect((await read('checkout')).metadata?.annotations).toEqual(userIngress([]).metadata?.annotations);
    await router.release!();
    expect((await read('checkout')).spec).toEqual(userIngress([['/checkout', 'checkout']]).spec);
  });

  it('refuses a mirror step on an Ingress with paths to other Services (mirror-target mirrors them all)', async () => {
    const ns = 'nginx-mirror-mixed';
    const paths: Array<[string, string]> = [
      ['/checkout', 'checkout'],
      ['/static', 'static'],
    ];
    const { router } = await started(sandbox, ns, [{ mirror: 100 }], paths);
    expect(await router.prepare()).toEqual({
      reason: 'RouteConflict',
      message:
        `Ingress ${ns}/checkout path /static goes to another Service; ingress-nginx's mirror-target mirrors every ` +
        `path of an Ingress: give the target's paths an Ingress of their own for a mirror step`,
    });
  });
});
