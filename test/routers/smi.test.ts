import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { milliWeight } from '../../src/adapters/routers/smi.js';
import { createWeightedRouter } from '../../src/adapters/routers/weighted.js';
import type { Sandbox } from '@kubestead/sandbox';
import { testSandbox, type Body } from '../support/sandbox.js';
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

const SPLITS = { group: 'split.smi-spec.io', version: 'v1alpha2', plural: 'trafficsplits' };

/** A TrafficSplit as Linkerd's traffic-split task writes one: the apex Service, all traffic to it. */
function userSplit(): Body {
  return {
    apiVersion: 'split.smi-spec.io/v1alpha2',
    kind: 'TrafficSplit',
    metadata: { name: 'checkout', labels: { team: 'shop' } },
    spec: { service: 'checkout', backends: [{ service: 'checkout', weight: 100 }] },
  };
}

function splitSpec(canary: number, primary: number): Body {
  return {
    service: 'checkout',
    backends: [
      { service: 'checkout-primary', weight: primary },
      { service: 'checkout-canary', weight: canary },
    ],
  };
}

const smi: RouterUnderTest = {
  kind: 'smi',
  trafficRouting: { smi: { trafficSplit: { name: 'checkout' } } },
  createUserObjects: (sandbox, namespace) => createCustom(sandbox, { ...SPLITS, namespace }, userSplit()),
  async liveSplit(sandbox, namespace) {
    const [primary, canary] = (await getCustom(sandbox, { ...SPLITS, namespace, name: 'checkout' })).spec.backends;
    return { canary: canary.weight, primary: primary.weight };
  },
  handEdit: (sandbox, namespace, canary, primary) =>
    editCustom(sandbox, { ...SPLITS, namespace, name: 'checkout' }, (ts) => {
      ts.spec.backends = [
        { service: 'checkout-primary', weight: primary },
        { service: 'checkout-canary', weight: canary },
      ];
    }),
};

const present = thirdPartyCrdsPresent();

describe('SMI weights', () => {
  it.each([
    [5, 5000],
    ['500m', 500],
    ['2', 2000],
    ['1k', 1_000_000],
    ['1.5', 1500],
    ['x', Number.NaN],
    [undefined, Number.NaN],
  ] as const)('%s is %s thousandths', (weight, milli) => {
    expect(milliWeight(weight)).toBe(milli);
  });
});

describe.skipIf(!present)('SMI TrafficSplit router', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await testSandbox();
    await installCrds(sandbox);
  });
  afterAll(() => sandbox?.close());

  it('says what is missing until the TrafficSplit exists and splits the Service', async () => {
    const ns = 'smi-missing';
    await createApp(sandbox, ns);
    const { ctx } = await createPolicy(sandbox, ns, smi.trafficRouting);
    const router = createWeightedRouter('smi', ctx);
    expect(await router.prepare()).toEqual({
      reason: 'RouteMissing',
      message: `TrafficSplit ${ns}/checkout does not exist`,
    });
    const split = userSplit();
    split.spec.service = 'payments';
    await createCustom(sandbox, { ...SPLITS, namespace: ns }, split);
    expect(await router.prepare()).toEqual({
      reason: 'RouteMismatch',
      message: `TrafficSplit ${ns}/checkout splits Service payments, not the target's Service checkout`,
    });
    await editCustom(sandbox, { ...SPLITS, namespace: ns, name: 'checkout' }, (live) => {
      live.spec.service = 'checkout';
    });
    expect(await router.prepare()).toBeNull();
  });

  it('takes a canary through 0.5%, 5% and 50% to promotion', async () => {
    const ns = 'smi-promote';
    const started = await startScenario(sandbox, smi, ns);
    await expectOwnedServices(sandbox, started, ns);
    await stepThrough(sandbox, smi, started, ns, [0.5]);
    const live = await getCustom(sandbox, { ...SPLITS, namespace: ns, name: 'checkout' });
    expect(live.spec).toEqual(splitSpec(5, 995));
    expect(live.metadata.labels).toEqual({ team: 'shop' });
    expect((await started.router.getWeight()).detail).toBe(
      `TrafficSplit ${ns}/checkout: backends canary 5/1000 (0.5%)`,
    );
    await stepThrough(sandbox, smi, started, ns, [5, 50, 0.001]);
    await promote(sandbox, started, ns);
    expect((await getCustom(sandbox, { ...SPLITS, namespace: ns, name: 'checkout' })).spec).toEqual(splitSpec(0, 100));
  });

  it('rolls a canary back from 0.5% to weight 0', async () => {
    const ns = 'smi-rollback';
    const started = await startScenario(sandbox, smi, ns);
    await stepThrough(sandbox, smi, started, ns, [0.5]);
    await rollBack(started);
    expect((await getCustom(sandbox, { ...SPLITS, namespace: ns, name: 'checkout' })).spec).toEqual(splitSpec(0, 100));
  });

  it('sees a hand edit, also one written at v1alpha1 as quantities, and corrects it', async () => {
    const ns = 'smi-drift';
    const started = await startScenario(sandbox, smi, ns);
    await driftIsCorrected(sandbox, smi, started, ns);
    const v1alpha1 = { ...SPLITS, version: 'v1alpha1', namespace: ns, name: 'checkout' };
    await editCustom(sandbox, v1alpha1, (ts) => {
      ts.spec.backends = [
        { service: 'checkout-primary', weight: '750m' },
        { service: 'checkout-canary', weight: '250m' },
      ];
    });
    expect(await started.router.getWeight()).toEqual({
      weight: 25,
      detail: `TrafficSplit ${ns}/checkout: backends canary 0.25/1 (25%)`,
    });
    await started.router.setWeight(0.5);
    const live = await getCustom(sandbox, { ...SPLITS, namespace: ns, name: 'checkout' });
    expect(live.apiVersion).toBe('split.smi-spec.io/v1alpha2');
    expect(live.spec).toEqual(splitSpec(5, 995));
  });

  it('gives the split back to the apex Service when the policy goes', async () => {
    const ns = 'smi-release';
    const started = await startScenario(sandbox, smi, ns);
    await releaseMidway(sandbox, smi, started, ns);
    expect((await getCustom(sandbox, { ...SPLITS, namespace: ns, name: 'checkout' })).spec).toEqual(userSplit().spec);
  });
});
