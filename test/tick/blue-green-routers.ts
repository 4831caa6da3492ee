import { CustomObjectsApi, NetworkingV1Api, type V1Ingress } from '@kubernetes/client-node';
import { expect } from 'vitest';
import type { Body } from '../support/sandbox.js';
import type { TickFixture } from './support.js';

/**
 * The routers test/tick/blue-green.test.ts runs blue-green on: replica routing (the user's Service selector), Gateway
 * API's HTTPRoute, Istio's VirtualService + DestinationRule and ingress-nginx's canary Ingress, each with the user's
 * objects it creates, reads back, and the pods its traffic reaches.
 */
const ROUTES = { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'httproutes' };
export const USER_SERVICE = {
  metadata: { name: 'app' },
  spec: { selector: { app: 'app' }, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] },
};

export interface Case {
  name: string;
  trafficRouting: Record<string, unknown>;
  /** Creates the user's route objects (none with replica routing). */
  create(f: TickFixture): Promise<void>;
  /** The user's objects as they are now: the Service, and the HTTPRoute's spec. */
  read(f: TickFixture): Promise<Body>;
  /** The pods the user's traffic reaches now: a label selector per destination with weight. */
  reached(f: TickFixture): Promise<Selector[]>;
  /** The user's objects once the policy is handed back: as created, but for what docs/routing.md says stays. */
  released?(created: Body): Body;
}

export type Selector = Record<string, string>;

const custom = (f: TickFixture) => f.sandbox.client(CustomObjectsApi);
const readService = async (f: TickFixture, name = 'app'): Promise<Body> =>
  (await f.core.readNamespacedService({ namespace: f.namespace, name })) as Body;
export const selectorOf = async (f: TickFixture, service: string): Promise<Selector> =>
  (await readService(f, service)).spec.selector as Selector;

export const replicas: Case = {
  name: 'replica routing (the user Service selector)',
  trafficRouting: { replicas: {} },
  create: () => Promise.resolve(),
  async read(f) {
    return { selector: (await readService(f)).spec.selector };
  },
  reached: async (f) => [await selectorOf(f, 'app')],
};

const httpRoute = {
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'HTTPRoute',
  metadata: { name: 'app' },
  spec: {
    parentRefs: [{ name: 'eg' }],
    hostnames: ['shop.example.com'],
    rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/app' } }], backendRefs: [{ name: 'app', port: 80 }] }],
  },
};

export const gateway: Case = {
  name: 'Gateway API (HTTPRoute)',
  trafficRouting: { gatewayAPI: { httpRoute: { name: 'app' } } },
  async create(f) {
    await custom(f).createNamespacedCustomObject({ ...ROUTES, namespace: f.namespace, body: httpRoute });
  },
  async read(f) {
    const route: Body = await custom(f).getNamespacedCustomObject({ ...ROUTES, namespace: f.namespace, name: 'app' });
    return { selector: (await readService(f)).spec.selector, route: route.spec };
  },
  async reached(f) {
    const route = (await this.read(f)).route;
    const refs = route.rules[0].backendRefs as Array<{ name: string; weight?: number }>;
    return Promise.all(refs.filter((ref) => (ref.weight ?? 1) > 0).map((ref) => selectorOf(f, ref.name)));
  },
};

const VS = { group: 'networking.istio.io', version: 'v1', plural: 'virtualservices' };
const DR = { group: 'networking.istio.io', version: 'v1', plural: 'destinationrules' };
const virtualService = {
  apiVersion: 'networking.istio.io/v1',
  kind: 'VirtualService',
  metadata: { name: 'app' },
  spec: {
    hosts: ['app'],
    http: [
      {
        name: 'http-primary',
        retries: { attempts: 3, perTryTimeout: '2s' },
        route: [{ destination: { host: 'app', port: { number: 80 } } }],
      },
    ],
  },
};
const destinationRule = {
  apiVersion: 'networking.istio.io/v1',
  kind: 'DestinationRule',
  metadata: { name: 'app' },
  spec: {
    host: 'app',
    subsets: [
      { name: 'stable', labels: { version: 'v1' } },
      { name: 'canary', labels: { version: 'v2' } },
    ],
  },
};

export const istio: Case = {
  name: 'Istio (VirtualService + DestinationRule subsets)',
  trafficRouting: {
    istio: {
      virtualService: { name: 'app', routes: ['http-primary'] },
      destinationRule: { name: 'app', stableSubsetName: 'stable', canarySubsetName: 'canary' },
    },
  },
  async create(f) {
    await custom(f).createNamespacedCustomObject({ ...DR, namespace: f.namespace, body: destinationRule });
    await custom(f).createNamespacedCustomObject({ ...VS, namespace: f.namespace, body: virtualService });
  },
  async read(f) {
    const [vs, dr] = await Promise.all(
      [VS, DR].map((ref) => custom(f).getNamespacedCustomObject({ ...ref, namespace: f.namespace, name: 'app' })),
    );
    return { selector: (await readService(f)).spec.selector, vs: vs.spec, dr: dr.spec };
  },
  async reached(f) {
    const { vs, dr } = await this.read(f);
    const route = (vs.http as Body[]).find((h) => h.name === 'http-primary')!.route as Body[];
    const subsets = new Map((dr.subsets as Body[]).map((s) => [s.name as string, s.labels as Selector]));
    const service = await selectorOf(f, 'app');
    return route
      .filter((r) => (r.weight ?? 100) > 0)
      .map((r) => ({ ...service, ...subsets.get(String(r.destination.subset)) }));
  },
  // docs/routing.md: the DestinationRule's subset labels keep the values Kubestead set; the rest is as it was.
  released(created) {
    const subsets = [
      { name: 'stable', labels: { 'kubestead.io/role': 'primary' } },
      { name: 'canary', labels: { 'pod-template-hash': expect.any(String) as unknown } },
    ];
    const dr: Record<string, unknown> = { ...(created.dr as Record<string, unknown>), subsets };
    return { ...(created as Record<string, unknown>), dr };
  },
};

const NGINX = 'nginx.ingress.kubernetes.io/';
const userIngress: V1Ingress = {
  metadata: { name: 'app', annotations: { [`${NGINX}proxy-body-size`]: '8m' } },
  spec: {
    ingressClassName: 'nginx',
    rules: [
      {
        host: 'shop.example.com',
        http: {
          paths: [{ path: '/app', pathType: 'Prefix', backend: { service: { name: 'app', port: { number: 80 } } } }],
        },
      },
    ],
  },
};
const networking = (f: TickFixture) => f.sandbox.client(NetworkingV1Api);
const readIngress = (f: TickFixture, name: string): Promise<V1Ingress | undefined> =>
  networking(f)
    .readNamespacedIngress({ namespace: f.namespace, name })
    .catch(() => undefined);
const backendOf = (ingress: V1Ingress): string =>
  ingress.spec?.rules?.[0]?.http?.paths[0]?.backend.service?.name ?? '?';

export const nginx: Case = {
  name: 'ingress-nginx (the canary Ingress)',
  trafficRouting: { nginx: { ingress: { name: 'app' } } },
  async create(f) {
    await networking(f).createNamespacedIngress({ namespace: f.namespace, body: userIngress });
  },
  async read(f) {
    const user = (await readIngress(f, 'app'))!;
    return { selector: (await readService(f)).spec.selector, spec: user.spec, annotations: user.metadata?.annotations };
  },
  async reached(f) {
    const user = (await readIngress(f, 'app'))!;
    const canary = await readIngress(f, 'app-canary');
    const weight = Number(canary?.metadata?.annotations?.[`${NGINX}canary-weight`] ?? 0);
    const backends = [...(weight < 100 ? [backendOf(user)] : []), ...(canary && weight > 0 ? [backendOf(canary)] : [])];
    return Promise.all(backends.map((name) => selectorOf(f, name)));
  },
};
