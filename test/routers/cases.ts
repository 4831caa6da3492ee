import { KubernetesObjectApi, type KubernetesObject } from '@kubernetes/client-node';
import type { Sandbox } from '@kubestead/sandbox';
import type { Body } from '../support/sandbox.js';

/**
 * One weighted router as a user sets it up: the route objects as the router's own docs write
 * them, the policy's trafficRouting, and how to read and hand-edit the two weights it holds.
 */
export interface RouterCase {
  name: string;
  trafficRouting: Record<string, unknown>;
  /** The user's objects, created in this order (namespace added on create). */
  objects(): Manifest[];
  /** The user's object Kubestead splits: its kind and name, for reading it back. */
  route: { apiVersion: string; kind: string; name: string };
  /** Ready=False's message while that object does not exist, in `namespace`. */
  missing(namespace: string): string;
  /** The route object's spec once split `canary`/`primary`, from the object as created (server defaults and all). */
  splitSpec(created: Body, canary: number, primary: number): Body;
  /** The two integers the live objects hold (null: no canary object, as nginx between rollouts). */
  liveSplit(sandbox: Sandbox, namespace: string): Promise<{ canary: number; primary: number } | null>;
  /** Someone edits the weights by hand (`kubectl edit`). */
  handEdit(sandbox: Sandbox, namespace: string, canary: number, primary: number): Promise<void>;
  /** Kubestead's `<svc>-primary` / `<svc>-canary` are used (Istio subsets do without). */
  usesServices: boolean;
}

/** An object as written in YAML. */
export type Manifest = Record<string, unknown>;

const objectApi = (sandbox: Sandbox): KubernetesObjectApi => KubernetesObjectApi.makeApiClient(sandbox.kubeConfig());

/** Reads any object by apiVersion, kind and name. */
export async function readObject(
  sandbox: Sandbox,
  namespace: string,
  ref: { apiVersion: string; kind: string; name: string },
): Promise<Body> {
  return objectApi(sandbox).read({
    apiVersion: ref.apiVersion,
    kind: ref.kind,
    metadata: { name: ref.name, namespace },
  });
}

export async function createObject(sandbox: Sandbox, namespace: string, body: Manifest): Promise<Body> {
  return objectApi(sandbox).create({ ...body, metadata: { ...(body.metadata as object), namespace } });
}

async function editObject(
  sandbox: Sandbox,
  namespace: string,
  ref: RouterCase['route'],
  change: (object: Body) => void,
): Promise<void> {
  const live = await readObject(sandbox, namespace, ref);
  change(live);
  await objectApi(sandbox).replace(live as KubernetesObject);
}

const VS = { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', name: 'checkout' };

/** A VirtualService as Istio's traffic-shifting task writes one, with fields Kubestead must keep and a route it must not touch. */
function virtualService(): Manifest {
  return {
    ...VS,
    metadata: { name: 'checkout', labels: { team: 'shop' } },
    spec: {
      hosts: ['checkout'],
      http: [
        {
          name: 'http-primary',
          match: [{ uri: { prefix: '/api' } }],
          retries: { attempts: 3, perTryTimeout: '2s' },
          timeout: '10s',
          headers: { request: { set: { 'x-shop': 'checkout' } } },
          route: [{ destination: { host: 'checkout', port: { number: 80 } } }],
        },
        { name: 'static', route: [{ destination: { host: 'static' } }] },
      ],
    },
  };
}

function istioRoute(destinations: (canary: number, primary: number) => Body[]): RouterCase['splitSpec'] {
  return (created, canary, primary): Body => {
    const spec = structuredClone(created.spec);
    spec.http[0].route = destinations(canary, primary);
    return spec;
  };
}

const istioLive = async (sandbox: Sandbox, namespace: string) => {
  const [primary, canary] = (await readObject(sandbox, namespace, VS)).spec.http[0].route;
  return { canary: canary.weight as number, primary: primary.weight as number };
};

const istioEdit = (sandbox: Sandbox, namespace: string, canary: number, primary: number) =>
  editObject(sandbox, namespace, VS, (vs) => {
    vs.spec.http[0].route[0].weight = primary;
    vs.spec.http[0].route[1].weight = canary;
  });

const istio: RouterCase = {
  name: 'istio',
  trafficRouting: { istio: { virtualService: { name: 'checkout', routes: ['http-primary'] } } },
  objects: (): Manifest[] => [virtualService()],
  route: VS,
  missing: (ns) => `VirtualService ${ns}/checkout does not exist`,
  splitSpec: istioRoute((canary, primary) => [
    { destination: { host: 'checkout-primary', port: { number: 80 } }, weight: primary },
    { destination: { host: 'checkout-canary', port: { number: 80 } }, weight: canary },
  ]),
  liveSplit: istioLive,
  handEdit: istioEdit,
  usesServices: true,
};

export const DESTINATION_RULE = { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', name: 'checkout' };

const istioSubsets: RouterCase = {
  ...istio,
  name: 'istio with destinationRule subsets',
  trafficRouting: {
    istio: {
      virtualService: { name: 'checkout' },
      destinationRule: { name: 'checkout', stableSubsetName: 'stable', canarySubsetName: 'canary' },
    },
  },
  objects: (): Manifest[] => [
    virtualService(),
    {
      ...DESTINATION_RULE,
      metadata: { name: 'checkout' },
      spec: {
        host: 'checkout',
        trafficPolicy: { loadBalancer: { simple: 'LEAST_REQUEST' } },
        subsets: [
          { name: 'stable', labels: { version: 'v1' } },
          { name: 'canary', labels: { version: 'v2' } },
        ],
      },
    },
  ],
  splitSpec: istioRoute((canary, primary) => [
    { destination: { host: 'checkout', port: { number: 80 }, subset: 'stable' }, weight: primary },
    { destination: { host: 'checkout', port: { number: 80 }, subset: 'canary' }, weight: canary },
  ]),
  usesServices: false,
};

const HTTP_ROUTE = { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', name: 'checkout' };

const gatewayAPI: RouterCase = {
  name: 'gatewayAPI',
  trafficRouting: { gatewayAPI: { httpRoute: { name: 'checkout' } } },
  objects: () => [
    {
      ...HTTP_ROUTE,
      metadata: { name: 'checkout' },
      spec: {
        parentRefs: [{ name: 'eg' }],
        hostnames: ['shop.example.com'],
        rules: [
          {
            matches: [{ path: { type: 'PathPrefix', value: '/checkout' } }],
            filters: [
              {
                type: 'RequestHeaderModifier',
                requestHeaderModifier: { set: [{ name: 'x-shop', value: 'checkout' }] },
              },
            ],
            backendRefs: [{ name: 'checkout', port: 80 }],
          },
          {
            matches: [{ path: { type: 'PathPrefix', value: '/static' } }],
            backendRefs: [{ name: 'static', port: 8080 }],
          },
        ],
      },
    },
  ],
  route: HTTP_ROUTE,
  missing: (ns) => `HTTPRoute ${ns}/checkout does not exist`,
  splitSpec(created, canary, primary): Body {
    const spec = structuredClone(created.spec);
    const ref = spec.rules[0].backendRefs[0];
    spec.rules[0].backendRefs = [
      { ...ref, name: 'checkout-primary', weight: primary },
      { ...ref, name: 'checkout-canary', weight: canary },
    ];
    return spec;
  },
  async liveSplit(sandbox, namespace) {
    const [primary, canary] = (await readObject(sandbox, namespace, HTTP_ROUTE)).spec.rules[0].backendRefs;
    return { canary: canary.weight as number, primary: primary.weight as number };
  },
  handEdit: (sandbox, namespace, canary, primary) =>
    editObject(sandbox, namespace, HTTP_ROUTE, (route) => {
      route.spec.rules[0].backendRefs[0].weight = primary;
      route.spec.rules[0].backendRefs[1].weight = canary;
    }),
  usesServices: true,
};

const TRAFFIC_SPLIT = { apiVersion: 'split.smi-spec.io/v1alpha2', kind: 'TrafficSplit', name: 'checkout' };

const smi: RouterCase = {
  name: 'smi',
  trafficRouting: { smi: { trafficSplit: { name: 'checkout' } } },
  objects: () => [
    {
      ...TRAFFIC_SPLIT,
      metadata: { name: 'checkout', labels: { team: 'shop' } },
      spec: { service: 'checkout', backends: [{ service: 'checkout', weight: 100 }] },
    },
  ],
  route: TRAFFIC_SPLIT,
  missing: (ns) => `TrafficSplit ${ns}/checkout does not exist`,
  splitSpec: (_created, canary, primary) => ({
    service: 'checkout',
    backends: [
      { service: 'checkout-primary', weight: primary },
      { service: 'checkout-canary', weight: canary },
    ],
  }),
  async liveSplit(sandbox, namespace) {
    const [primary, canary] = (await readObject(sandbox, namespace, TRAFFIC_SPLIT)).spec.backends;
    return { canary: canary.weight as number, primary: primary.weight as number };
  },
  handEdit: (sandbox, namespace, canary, primary) =>
    editObject(sandbox, namespace, TRAFFIC_SPLIT, (ts) => {
      ts.spec.backends = [
        { service: 'checkout-primary', weight: primary },
        { service: 'checkout-canary', weight: canary },
      ];
    }),
  usesServices: true,
};

const INGRESS = { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name: 'checkout' };
export const CANARY_INGRESS = { ...INGRESS, name: 'checkout-canary' };
export const NGINX = 'nginx.ingress.kubernetes.io/';

const ingressPath = (path: string, service: string): Body => ({
  path,
  pathType: 'Prefix',
  backend: { service: { name: service, port: { number: 80 } } },
});

const nginx: RouterCase = {
  name: 'nginx',
  trafficRouting: { nginx: { ingress: { name: 'checkout' } } },
  objects: () => [
    {
      ...INGRESS,
      metadata: { name: 'checkout', annotations: { [`${NGINX}proxy-body-size`]: '8m' } },
      spec: {
        ingressClassName: 'nginx',
        tls: [{ hosts: ['shop.example.com'], secretName: 'shop-tls' }],
        rules: [
          {
            host: 'shop.example.com',
            http: { paths: [ingressPath('/checkout', 'checkout'), ingressPath('/static', 'static')] },
          },
        ],
      },
    },
  ],
  route: INGRESS,
  missing: (ns) => `Ingress ${ns}/checkout does not exist`,
  // The user's Ingress sends the app's path to checkout-primary whatever the split; the split is on checkout-canary.
  splitSpec(created): Body {
    const spec = structuredClone(created.spec);
    spec.rules[0].http.paths[0].backend.service.name = 'checkout-primary';
    return spec;
  },
  async liveSplit(sandbox, namespace) {
    const canary = await readObject(sandbox, namespace, CANARY_INGRESS).catch(() => null);
    if (!canary) return null;
    const weight = Number(canary.metadata.annotations[`${NGINX}canary-weight`]);
    return { canary: weight, primary: Number(canary.metadata.annotations[`${NGINX}canary-weight-total`]) - weight };
  },
  handEdit: (sandbox, namespace, canary, primary) =>
    editObject(sandbox, namespace, CANARY_INGRESS, (ingress) => {
      ingress.metadata.annotations[`${NGINX}canary-weight`] = String(canary);
      ingress.metadata.annotations[`${NGINX}canary-weight-total`] = String(canary + primary);
    }),
  usesServices: true,
};

/** The `<ingress>-canary` nginx reads at a split: the app's path only, to checkout-canary, the user's annotations kept. */
export function canaryIngressOf(created: Body, canary: number, total: number): Body {
  return {
    annotations: {
      ...created.metadata.annotations,
      [`${NGINX}canary`]: 'true',
      [`${NGINX}canary-weight`]: String(canary),
      [`${NGINX}canary-weight-total`]: String(total),
    },
    spec: {
      ...created.spec,
      rules: [
        {
          host: 'shop.example.com',
          http: {
            paths: [
              {
                ...created.spec.rules[0].http.paths[0],
                backend: { service: { name: 'checkout-canary', port: { number: 80 } } },
              },
            ],
          },
        },
      ],
    },
  };
}

export const CASES: RouterCase[] = [istio, istioSubsets, gatewayAPI, smi, nginx];
