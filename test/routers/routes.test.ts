import { describe, expect, it } from 'vitest';
import { roleOfRef, selectRules } from '../../src/adapters/routers/gateway-api.js';
import {
  routeShares,
  selectRoutes,
  serviceOfHost,
  withSplit,
  type Tracks,
  type VirtualServiceSpec,
} from '../../src/adapters/routers/istio-routes.js';
import { serviceNames } from '../../src/adapters/routers/services.js';
import { describeShares } from '../../src/adapters/routers/tracks.js';

const names = serviceNames('checkout');
const byService: Tracks = { by: 'service', names, namespace: 'shop' };

describe('Istio hosts and routes', () => {
  it.each([
    ['checkout', 'checkout'],
    ['checkout.shop', 'checkout'],
    ['checkout.shop.svc', 'checkout'],
    ['checkout.shop.svc.cluster.local', 'checkout'],
    ['checkout.shop.svc.corp.example', 'checkout'],
    ['checkout.pay', undefined],
    ['checkout.pay.svc.cluster.local', undefined],
    ['api.example.com', undefined],
    ['', undefined],
  ])('%s names Service %s in shop', (host, service) => {
    expect(serviceOfHost(host, 'shop')).toBe(service);
  });

  it('keeps the form of a fully qualified host and every other field of the destination', () => {
    const spec: VirtualServiceSpec = {
      hosts: ['checkout'],
      http: [
        {
          route: [
            {
              destination: { host: 'checkout.shop.svc.cluster.local', port: { number: 80 } },
              headers: { response: { add: { 'x-a': '1' } } },
            },
          ],
        },
      ],
    };
    const indexes = selectRoutes(spec, undefined, byService, 'VS');
    expect(indexes).toEqual([0]);
    const split = withSplit(spec, [0], { canary: 1, primary: 999, total: 1000 }, byService);
    expect(split.http?.[0]?.route).toEqual([
      {
        destination: { host: 'checkout-primary.shop.svc.cluster.local', port: { number: 80 } },
        headers: { response: { add: { 'x-a': '1' } } },
        weight: 999,
      },
      {
        destination: { host: 'checkout-canary.shop.svc.cluster.local', port: { number: 80 } },
        headers: { response: { add: { 'x-a': '1' } } },
        weight: 1,
      },
    ]);
    expect(spec.http?.[0]?.route?.[0]?.destination?.host).toBe('checkout.shop.svc.cluster.local');
  });

  it('splits every route to the Service when none are named, and leaves routes to other hosts alone', () => {
    const spec: VirtualServiceSpec = {
      http: [
        { name: 'a', route: [{ destination: { host: 'checkout' } }] },
        { name: 'b', route: [{ destination: { host: 'static' } }] },
        { name: 'c', redirect: { uri: '/x' } },
        {
          name: 'd',
          route: [
            { destination: { host: 'checkout-primary' }, weight: 90 },
            { destination: { host: 'checkout-canary' }, weight: 10 },
          ],
        },
      ],
    };
    expect(selectRoutes(spec, undefined, byService, 'VS')).toEqual([0, 3]);
    expect(selectRoutes(spec, ['b'], byService, 'VS')).toMatchObject({ reason: 'RouteMismatch' });
    expect(selectRoutes({ http: [spec.http![1]!] }, undefined, byService, 'VS')).toEqual({
      reason: 'RouteMismatch',
      message: 'VS has no HTTP route to Service checkout',
    });
  });

  it('reads a lone destination without weight as all of the traffic, and reports unsplit traffic', () => {
    const spec: VirtualServiceSpec = {
      http: [
        { route: [{ destination: { host: 'checkout' } }] },
        {
          name: 'x',
          route: [
            { destination: { host: 'checkout' }, weight: 50 },
            { destination: { host: 'checkout-canary' }, weight: 50 },
          ],
        },
      ],
    };
    const shares = routeShares(spec, [0, 1], byService);
    expect(describeShares(shares, 'VS shop/checkout', 'checkout')).toEqual({
      weight: 50,
      detail:
        'VS shop/checkout: http[0] canary 0/100 (0%), 100/100 to checkout unsplit; route "x" canary 50/100 (50%), 50/100 to checkout unsplit',
    });
  });
});

describe('Gateway API backendRefs', () => {
  it.each([
    [{ name: 'checkout' }, 'unsplit'],
    [{ name: 'checkout-primary', kind: 'Service', group: '' }, 'primary'],
    [{ name: 'checkout-canary', namespace: 'shop' }, 'canary'],
    [{ name: 'checkout', namespace: 'pay' }, 'other'],
    [{ name: 'checkout', kind: 'ServiceImport', group: 'multicluster.x-k8s.io' }, 'other'],
    [{ name: 'static' }, 'other'],
  ] as const)('%o is %s', (ref, role) => {
    expect(roleOfRef(ref, names, 'shop')).toBe(role);
  });

  it('refuses a rule that mixes the Service with another backend', () => {
    expect(
      selectRules(
        {
          rules: [
            {
              backendRefs: [
                { name: 'checkout', port: 80 },
                { name: 'static', port: 80 },
              ],
            },
          ],
        },
        names,
        'shop',
        'HTTPRoute shop/r',
      ),
    ).toEqual({
      reason: 'RouteMismatch',
      message:
        "HTTPRoute shop/r rules[0] sends traffic to other backends besides Service checkout; Kubestead splits only rules whose backends are the target's Service",
    });
  });
});
