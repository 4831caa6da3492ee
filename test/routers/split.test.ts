import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parsePolicy } from '../../src/pipeline/policy/load.js';
import { inexpressibleWeight, routingIssues } from '../../src/pipeline/policy/routing.js';
import { decimalsOf, describeShare, integerSplit, percentText, shareOf } from '../../src/pipeline/policy/weights.js';

describe('integerSplit', () => {
  it.each([
    [5, { canary: 5, primary: 95, total: 100 }],
    [0.5, { canary: 5, primary: 995, total: 1000 }],
    [0.1, { canary: 1, primary: 999, total: 1000 }],
    [0.25, { canary: 25, primary: 9975, total: 10000 }],
    [0.0001, { canary: 1, primary: 999999, total: 1000000 }],
    [0, { canary: 0, primary: 100, total: 100 }],
    [100, { canary: 100, primary: 0, total: 100 }],
    [33.3, { canary: 333, primary: 667, total: 1000 }],
  ])('%s%% is %o', (weight, split) => {
    expect(integerSplit(weight)).toEqual(split);
    expect(shareOf(split.canary, split.total)).toBe(weight);
  });

  it('refuses what is no percent or has too many places', () => {
    expect(integerSplit(-1)).toBeNull();
    expect(integerSplit(100.5)).toBeNull();
    expect(integerSplit(Number.NaN)).toBeNull();
    expect(integerSplit(1 / 3)).toBeNull();
    expect(decimalsOf(1 / 3)).toBeNull();
  });

  it('reads back exactly the weight it was given, for any weight of up to 7 decimal places', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e9 }), fc.integer({ min: 0, max: 7 }), (units, decimals) => {
        const weight = Number((units / 10 ** 7).toFixed(decimals));
        const split = integerSplit(weight);
        expect(split).not.toBeNull();
        expect(split!.canary + split!.primary).toBe(split!.total);
        expect(shareOf(split!.canary, split!.total)).toBe(weight);
      }),
    );
  });

  it('writes shares as a person reads them', () => {
    expect(describeShare(5, 1000)).toBe('5/1000 (0.5%)');
    expect(shareOf(0, 0)).toBe(0);
    expect(percentText(1e-7)).toBe('0.0000001');
    expect(percentText(1 / 3)).toBe(String(1 / 3));
  });
});

describe('inexpressibleWeight', () => {
  it.each([
    ['istio', 0.0000001, null],
    [
      'istio',
      0.00000001,
      'istio cannot route 0.00000001% exactly: it needs weights out of 10000000000, but VirtualService weights are 32-bit integers (at most 7 decimal places, 0.0000001%)',
    ],
    ['gatewayAPI', 0.0001, null],
    [
      'gatewayAPI',
      0.00015,
      'gatewayAPI cannot route 0.00015% exactly: it needs weights out of 10000000, but an HTTPRoute backend weight is at most 1000000 (at most 4 decimal places, 0.0001%)',
    ],
    ['smi', 0.001, null],
    [
      'smi',
      0.0015,
      "smi cannot route 0.0015% exactly: it needs weights out of 1000000, but Linkerd's SMI extension hands each backend weight to its proxies as a 32-bit count of 1/10000 units, at most 429496 (at most 3 decimal places, 0.001%)",
    ],
    ['nginx', 0.5, null],
    [
      'nginx',
      0.00000001,
      'nginx cannot route 0.00000001% exactly: it needs weights out of 10000000000, but ingress-nginx reads canary-weight-total as a 32-bit integer (at most 7 decimal places, 0.0000001%)',
    ],
    ['replicas', 0.00000001, null],
    ['nginx', 1 / 3, `weight ${String(1 / 3)} has more than 10 decimal places`],
    ['istio', 101, 'weight 101 is not a percent between 0 and 100'],
  ] as const)('%s at %s%%', (kind, weight, why) => {
    expect(inexpressibleWeight(kind, weight)).toBe(why);
  });
});

describe('routingIssues', () => {
  it('says nothing of the replica split, a missing router or wrong types', () => {
    expect(routingIssues({ steps: [{ weight: 1e-9 }] })).toEqual([]);
    expect(routingIssues({ steps: [{ weight: 1e-9 }], trafficRouting: { replicas: {} } })).toEqual([]);
    expect(
      routingIssues({ steps: 'x', trafficRouting: { istio: { virtualService: 'x', destinationRule: 5 } } }),
    ).toEqual([]);
    expect(routingIssues(null)).toEqual([]);
  });

  it('refuses an empty routes list and a long ingress name', () => {
    expect(routingIssues({ trafficRouting: { istio: { virtualService: { name: 'vs', routes: [] } } } })).toEqual([
      {
        path: ['spec', 'trafficRouting', 'istio', 'virtualService', 'routes'],
        message: 'an empty routes list would edit no route; omit it to edit every HTTP route',
      },
    ]);
    expect(routingIssues({ trafficRouting: { nginx: { ingress: { name: 'a'.repeat(250) } } } })).toEqual([
      {
        path: ['spec', 'trafficRouting', 'nginx', 'ingress', 'name'],
        message:
          'Ingress name is too long: Kubestead creates "<name>-canary", and an Ingress name has at most 253 characters',
      },
    ]);
  });
});

describe('a policy read from the API', () => {
  it('is refused with the same line when its router cannot give a step exactly', () => {
    const raw = {
      apiVersion: 'kubestead.io/v1alpha1',
      kind: 'RolloutPolicy',
      metadata: { name: 'p' },
      spec: {
        targetRef: { kind: 'Deployment', name: 'web' },
        steps: [{ weight: 0.0005 }, { weight: 5 }],
        trafficRouting: { smi: { trafficSplit: { name: 'web' } } },
      },
    };
    const parsed = parsePolicy(raw);
    expect(parsed.policy).toBeNull();
    expect(parsed.issues).toEqual([
      { path: ['spec', 'steps', 0, 'weight'], message: inexpressibleWeight('smi', 0.0005) },
    ]);
    raw.spec.steps[0]!.weight = 0.001;
    expect(parsePolicy(raw).issues).toEqual([]);
  });
});
