import { CustomObjectsApi, NetworkingV1Api, type V1Ingress } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { cookieRegex } from '../../src/pipeline/policy/strategies.js';
import type { Body } from '../support/sandbox.js';
import { installRouterCrds, thirdPartyCrdsPresent } from '../routers/support.js';
import { scenario } from './scenario.js';
import { GROUP, type TickFixture } from './support.js';

/**
 * A/B, mirror and weight steps driven by the real tick (ManualClock) through Istio (VirtualService + DestinationRule),
 * Gateway API and ingress-nginx on their published CRDs: the route objects read back at every step, and after
 * promotion and rollback nothing Kubestead added is left (docs/strategies.md).
 */

const env = scenario();
const present = thirdPartyCrdsPresent();
const STEP_MS = 60_000;
const MATCH = [{ headers: { 'x-canary': { exact: 'insider' } } }];
const STEPS = [
  { match: MATCH, soak: '1m' },
  { mirror: 100, soak: '1m' },
  { weight: 50, soak: '1m' },
];
const AFFINITY = { cookieName: 'kubestead-canary', maxAge: '1h' };
const NGINX = 'nginx.ingress.kubernetes.io/';

type Stage = 'ab' | 'mirror' | 'weight' | 'end';

interface Case {
  name: string;
  trafficRouting: Record<string, unknown>;
  /** Creates the user's route objects; returns them as the API server keeps them. */
  create(f: TickFixture): Promise<Body>;
  /** The route objects as they are now. */
  read(f: TickFixture): Promise<Body>;
  /** What the route objects hold at `stage`; `hash` is the canary ReplicaSet's pod-template-hash. */
  expectStage(live: Body, created: Body, stage: Stage, hash: string): void;
}

const custom = (f: TickFixture) => f.sandbox.client(CustomObjectsApi);
const VS = { group: 'networking.istio.io', version: 'v1', plural: 'virtualservices' };
const DR = { group: 'networking.istio.io', version: 'v1', plural: 'destinationrules' };
const ROUTES = { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'httproutes' };

const virtualService = {
  apiVersion: 'networking.istio.io/v1',
  kind: 'VirtualService',
  metadata: { name: 'app' },
  spec: {
    hosts: ['app'],
    http: [
      {
        name: 'http-primary',
        match: [{ uri: { prefix: '/api' } }],
        retries: { attempts: 3, perTryTimeout: '2s' },
        route: [{ destination: { host: 'app', port: { number: 80 } } }],
      },
      { name: 'static', route: [{ destination: { host: 'static' } }] },
    ],
  },
};
const destinationRule = {
  apiVersion: 'networking.istio.io/v1',
  kind: 'DestinationRule',
  metadata: { name: 'app' },
  spec: {
    host: 'app',
    trafficPolicy: { loadBalancer: { simple: 'LEAST_REQUEST' } },
    subsets: [
      { name: 'stable', labels: { version: 'v1' } },
      { name: 'canary', labels: { version: 'v2' } },
    ],
  },
};
const subset = (name: string) => ({ host: 'app', port: { number: 80 }, subset: name });

/** The user's route split at `canary` % (the route's own fields kept). */
const istioSplit = (canary: number) => ({
  ...virtualService.spec.http[0],
  route: [
    { destination: subset('stable'), weight: 100 - canary },
    { destination: subset('canary'), weight: canary },
  ],
});

const istio: Case = {
  name: 'Istio (VirtualService + DestinationRule subsets), with session affinity',
  trafficRouting: {
    istio: {
      virtualService: { name: 'app', routes: ['http-primary'] },
      destinationRule: { name: 'app', stableSubsetName: 'stable', canarySubsetName: 'canary' },
    },
    sessionAffinity: AFFINITY,
  },
  async create(f): Promise<Body> {
    await custom(f).createNamespacedCustomObject({ ...DR, namespace: f.namespace, body: destinationRule });
    await custom(f).createNamespacedCustomObject({ ...VS, namespace: f.namespace, body: virtualService });
    return this.read(f);
  },
  async read(f): Promise<Body> {
    const [vs, dr] = await Promise.all(
      [VS, DR].map((ref) => custom(f).getNamespacedCustomObject({ ...ref, namespace: f.namespace, name: 'app' })),
    );
    return { vs: vs.spec, dr: dr.spec };
  },
  expectStage(live, _created, stage, hash) {
    const http = live.vs.http as Body[];
    const user = virtualService.spec.http;
    expect(live.dr.trafficPolicy).toEqual(destinationRule.spec.trafficPolicy);
    if (stage === 'ab') {
      const ab = {
        ...user[0],
        name: 'kubestead-ab-http-primary',
        match: [{ uri: { prefix: '/api' }, headers: { 'x-canary': { exact: 'insider' } } }],
        route: [{ destination: subset('canary') }],
      };
      expect(http).toEqual([ab, istioSplit(0), user[1]]);
    } else if (stage === 'mirror') {
      expect(http).toEqual([
        { ...istioSplit(0), mirrors: [{ destination: subset('canary'), percentage: { value: 100 } }] },
        user[1],
      ]);
    } else if (stage === 'weight') {
      const split = istioSplit(50);
      const cookie = `kubestead-canary=${hash}; Max-Age=3600; Path=/`;
      split.route[1] = { ...split.route[1]!, headers: { response: { add: { 'Set-Cookie': cookie } } } } as never;
      const affinity = {
        ...user[0],
        name: 'kubestead-affinity-http-primary',
        match: [{ uri: { prefix: '/api' }, headers: { cookie: { regex: cookieRegex('kubestead-canary', hash) } } }],
        route: [{ destination: subset('canary') }],
      };
      expect(http).toEqual([affinity, split, user[1]]);
    } else {
      expect(http).toEqual([istioSplit(0), user[1]]);
    }
  },
};

const httpRoute = {
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'HTTPRoute',
  metadata: { name: 'app' },
  spec: {
    parentRefs: [{ name: 'eg' }],
    hostnames: ['shop.example.com'],
    rules: [
      {
        matches: [{ path: { type: 'PathPrefix', value: '/app' } }],
        filters: [
          { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-shop', value: 'app' }] } },
        ],
        backendRefs: [{ name: 'app', port: 80 }],
      },
      { matches: [{ path: { type: 'PathPrefix', value: '/static' } }], backendRefs: [{ name: 'static', port: 8080 }] },
    ],
  },
};
const REF = { group: '', kind: 'Service', port: 80 };
const PATH = { type: 'PathPrefix', value: '/app' };

/** The user's rule split at `canary` %, everything of the route as the API server keeps it. */
function gatewaySplit(created: Body, canary: number, canaryFilters?: unknown[]): Body {
  const rule = structuredClone(created.rules[0]);
  const canaryRef = {
    ...REF,
    name: 'app-canary',
    weight: canary,
    ...(canaryFilters ? { filters: canaryFilters } : {}),
  };
  rule.backendRefs = [{ ...REF, name: 'app-primary', weight: 100 - canary }, canaryRef];
  return rule;
}

const gateway: Case = {
  name: 'Gateway API (HTTPRoute), with session affinity',
  trafficRouting: { gatewayAPI: { httpRoute: { name: 'app' } }, sessionAffinity: AFFINITY },
  async create(f): Promise<Body> {
    await custom(f).createNamespacedCustomObject({ ...ROUTES, namespace: f.namespace, body: httpRoute });
    return this.read(f);
  },
  async read(f): Promise<Body> {
    const route: Body = await custom(f).getNamespacedCustomObject({ ...ROUTES, namespace: f.namespace, name: 'app' });
    return route.spec;
  },
  expectStage(live, created, stage, hash) {
    const rules = live.rules as Body[];
    const other = created.rules[1];
    if (stage === 'ab') {
      expect(rules).toEqual([
        {
          ...created.rules[0],
          name: 'kubestead-ab-rule-0',
          matches: [{ path: PATH, headers: [{ type: 'Exact', name: 'x-canary', value: 'insider' }] }],
          backendRefs: [{ ...REF, name: 'app-canary', weight: 1 }],
        },
        gatewaySplit(created, 0),
        other,
      ]);
    } else if (stage === 'mirror') {
      const split = gatewaySplit(created, 0);
      split.filters = [
        ...created.rules[0].filters,
        { type: 'RequestMirror', requestMirror: { backendRef: { ...REF, name: 'app-canary' }, percent: 100 } },
      ];
      expect(rules).toEqual([split, other]);
    } else if (stage === 'weight') {
      const cookie = `kubestead-canary=${hash}; Max-Age=3600; Path=/`;
      const setCookie = [
        { type: 'ResponseHeaderModifier', responseHeaderModifier: { add: [{ name: 'Set-Cookie', value: cookie }] } },
      ];
      expect(rules[0]).toMatchObject({
        name: 'kubestead-affinity-rule-0',
        matches: [
          {
            path: PATH,
            headers: [{ type: 'RegularExpression', name: 'cookie', value: cookieRegex('kubestead-canary', hash) }],
          },
        ],
        backendRefs: [{ ...REF, name: 'app-canary' }],
      });
      expect(rules.slice(1)).toEqual([gatewaySplit(created, 50, setCookie), other]);
    } else {
      expect(rules).toEqual([gatewaySplit(created, 0), other]);
    }
  },
};

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

const nginx: Case = {
  name: 'ingress-nginx (the canary Ingress annotations)',
  trafficRouting: { nginx: { ingress: { name: 'app' } } },
  async create(f): Promise<Body> {
    await f.sandbox.client(NetworkingV1Api).createNamespacedIngress({ namespace: f.namespace, body: userIngress });
    return this.read(f);
  },
  async read(f): Promise<Body> {
    const networking = f.sandbox.client(NetworkingV1Api);
    const read = (name: string) =>
      networking.readNamespacedIngress({ namespace: f.namespace, name }).catch((e: { code?: number }) => e.code);
    const [user, canary] = await Promise.all([read('app'), read('app-canary')]);
    return { user, canary: typeof canary === 'number' ? canary : canary?.metadata?.annotations };
  },
  expectStage(live, created, stage) {
    const toPrimary = structuredClone(created.user.spec);
    toPrimary.rules[0].http.paths[0].backend.service.name = 'app-primary';
    expect(live.user.spec).toEqual(toPrimary);
    const canaryAt = (weight: number, extra: Record<string, string> = {}) => ({
      [`${NGINX}proxy-body-size`]: '8m',
      [`${NGINX}canary`]: 'true',
      ...extra,
      [`${NGINX}canary-weight`]: String(weight),
      [`${NGINX}canary-weight-total`]: '100',
    });
    const userAnnotations = { ...created.user.metadata.annotations };
    if (stage === 'ab') {
      expect(live.canary).toEqual(
        canaryAt(0, { [`${NGINX}canary-by-header`]: 'x-canary', [`${NGINX}canary-by-header-value`]: 'insider' }),
      );
    } else if (stage === 'mirror') {
      userAnnotations[`${NGINX}mirror-target`] =
        `http://app-canary.${live.user.metadata.namespace}.svc.cluster.local:80$request_uri`;
    } else if (stage === 'weight') {
      expect(live.canary).toEqual(canaryAt(50));
    }
    if (stage === 'end') expect(live.canary).toBe(404);
    expect(live.user.metadata.annotations).toEqual(userAnnotations);
  },
};

/** The target (4 of app:1), the user's Service, the route objects, and the policy adopted. */
async function adopted(f: TickFixture, c: Case): Promise<Body> {
  await f.createDeployment('app', 'app:1', 4);
  await f.core.createNamespacedService({
    namespace: f.namespace,
    body: {
      metadata: { name: 'app' },
      spec: { selector: { app: 'app' }, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] },
    },
  });
  const created = await c.create(f);
  await f.settle();
  await f.applyPolicy(env.spec({ steps: STEPS, trafficRouting: c.trafficRouting }));
  await f.adopt();
  return created;
}

/** The canary ReplicaSet's pod-template-hash (the cookie's value). */
async function canaryHash(f: TickFixture): Promise<string> {
  const sets = (await f.apps.listNamespacedReplicaSet({ namespace: f.namespace })).items;
  const canary = sets.find(
    (rs) =>
      rs.metadata?.ownerReferences?.[0]?.name === 'app' && rs.spec?.template?.spec?.containers[0]?.image === 'app:2',
  );
  return canary?.metadata?.labels?.['pod-template-hash'] ?? 'none';
}

/**
 * Ticks to step `step`, then once more after the canary's pods are ready: a weighted router gets a step's traffic
 * only when every canary pod it needs is ready (never traffic to an unready canary).
 */
async function atStep(f: TickFixture, step: number): Promise<void> {
  await f.tickUntil((s) => s.currentStep === step, STEP_MS);
  await f.settle();
  await f.clock.advance(10_000);
  await f.tick();
  expect(await f.status()).toMatchObject({ phase: 'Progressing', currentStep: step, stage: STAGES[step] });
}

/** status.stage at each step of STEPS (docs/strategies.md). */
const STAGES = ['A/B x-canary=insider', 'mirror 100 %', 'weight 50 %'];

/** Deletes the policy and ticks until its finalizer has handed back what the router set up (at most 20 ticks). */
async function deletePolicy(f: TickFixture): Promise<void> {
  await f.objects.deleteNamespacedCustomObject({ ...GROUP, namespace: f.namespace, name: 'app' });
  const exists = () =>
    f.objects.getNamespacedCustomObject({ ...GROUP, namespace: f.namespace, name: 'app' }).then(
      () => true,
      () => false,
    );
  for (let i = 0; i < 20 && (await exists()); i++) {
    await f.tick();
    await f.settle();
  }
  expect(await exists()).toBe(false);
}

describe.skipIf(!present)('A/B, mirror and weight steps through the tick, on each router', () => {
  beforeAll(() => installRouterCrds(env.sandbox));

  describe.each([istio, gateway, nginx])('$name', (c) => {
    it('each step writes its own route; promotion leaves nothing added; deletion gives the user route back as it was', async () => {
      const f = await env.fixture();
      const created = await adopted(f, c);
      await f.setImage('app:2');
      await atStep(f, 0);
      const hash = await canaryHash(f);
      c.expectStage(await c.read(f), created, 'ab', hash);

      await atStep(f, 1);
      c.expectStage(await c.read(f), created, 'mirror', hash);

      await atStep(f, 2);
      expect((await f.status()).canaryWeight).toBe(50);
      c.expectStage(await c.read(f), created, 'weight', hash);

      expect((await f.tickUntil((s) => s.phase === 'Succeeded', STEP_MS)).stage).toBeUndefined();
      c.expectStage(await c.read(f), created, 'end', hash);

      await deletePolicy(f);
      const released = await c.read(f);
      if (c === nginx) {
        expect(released.user.spec).toEqual(created.user.spec);
        expect(released.user.metadata.annotations).toEqual(created.user.metadata.annotations);
      } else if (c === istio) {
        // docs/routing.md: the DestinationRule's subset labels keep the values Kubestead set; the rest is as it was.
        expect(released.vs).toEqual(created.vs);
        const subsets = [
          { name: 'stable', labels: { 'kubestead.io/role': 'primary' } },
          { name: 'canary', labels: { 'pod-template-hash': hash } },
        ];
        expect(released.dr).toEqual({ ...created.dr, subsets });
      } else expect(released).toEqual(created);
    }, 60_000);

    it.each([
      ['A/B', 0],
      ['mirror', 1],
    ])(
      'a breach at the %s step rolls back: nothing added is left',
      async (_kind, step) => {
        const f = await env.fixture();
        const created = await adopted(f, c);
        await f.setImage('app:2');
        await atStep(f, step);
        c.expectStage(await c.read(f), created, step === 0 ? 'ab' : 'mirror', await canaryHash(f));
        env.prom.set(0.4);
        try {
          await f.clock.advance(10_000);
          await f.tick();
          const status = await f.status();
          expect(status.phase).toBe('RolledBack');
          expect(status.stage).toBeUndefined();
        } finally {
          env.prom.set(0.001);
        }
        c.expectStage(await c.read(f), created, 'end', await canaryHash(f));
      },
      60_000,
    );
  });
});
