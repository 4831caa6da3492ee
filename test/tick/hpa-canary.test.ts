import { AutoscalingV2Api, type V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { CPU_LOAD_ANNOTATION, CPU_LOAD_PODS_ANNOTATION, type ScaleWrite } from '@kubestead/sandbox';
import { nearestCanaryCount } from '../../src/adapters/routers/replicas.js';
import { rolledOut } from '../../src/pipeline/actuate/deployments.js';
import { podsForWeight } from '../../src/pipeline/policy/weights.js';
import { installRouterCrds, thirdPartyCrdsPresent } from '../routers/support.js';
import { gateway, USER_SERVICE } from './blue-green-routers.js';
import { sampleReadyPods, serving as servesNow } from '../support/capacity.js';
import { waitFor } from '../support/wait.js';
import { scenario } from './scenario.js';
import { MERGE, type TickFixture } from './support.js';

/** The sandbox's HPAs sync every 200 ms of its (real) clock: a test waits for their counts, never a fixed time. */
const env = scenario({ hpaSyncMs: 200 });
const present = thirdPartyCrdsPresent();
const MIN = 2;
const MAX = 10;

/**
 * The user's HPA of `app`: 2 to 10 replicas at 50 % cpu; `prompt`: scaling down without a stabilization window
 * (Kubernetes' default waits 5 minutes).
 */
function userHpa(prompt: boolean): V2HorizontalPodAutoscaler {
  return {
    metadata: { name: 'app' },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'app' },
      minReplicas: MIN,
      maxReplicas: MAX,
      metrics: [
        { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } },
      ],
      ...(prompt ? { behavior: { scaleDown: { stabilizationWindowSeconds: 0 } } } : {}),
    },
  };
}

const hpaOf = (f: TickFixture, name: string): Promise<V2HorizontalPodAutoscaler> =>
  env.sandbox.client(AutoscalingV2Api).readNamespacedHorizontalPodAutoscaler({ namespace: f.namespace, name });

/**
 * The load of the Service in front of `app`: `load` millicores spread over every ready pod of primary and canary (the
 * sandbox's cpu-load-pods), as replica routing spreads requests. Primary first: both HPAs then read the same load.
 */
async function serviceLoad(f: TickFixture, load: string): Promise<void> {
  const annotations = { [CPU_LOAD_ANNOTATION]: load, [CPU_LOAD_PODS_ANNOTATION]: 'app=app' };
  for (const name of ['app-primary', 'app'])
    await f.apps.patchNamespacedDeployment(
      { namespace: f.namespace, name, body: { metadata: { annotations } } },
      MERGE,
    );
}

/**
 * The load behind a weighted router: `total` millicores, of which the canary's pods together get `weight` % and
 * primary's the rest, each spread over its own ready pods (the router splits requests by weight, not by pods).
 * `canaryCost`: what a request costs the canary against primary (1: the same; 0.2: a fifth, uneven load).
 */
async function routedLoad(f: TickFixture, total: number, weight: number, canaryCost = 1): Promise<void> {
  const loads: Array<[string, number]> = [
    ['app-primary', (total * (100 - weight)) / 100],
    ['app', (total * weight * canaryCost) / 100],
  ];
  for (const [name, load] of loads) {
    const annotations = { [CPU_LOAD_ANNOTATION]: `${Math.round(load)}m`, [CPU_LOAD_PODS_ANNOTATION]: null };
    await f.apps.patchNamespacedDeployment(
      { namespace: f.namespace, name, body: { metadata: { annotations } } },
      MERGE,
    );
  }
}

/** How a test's policy routes traffic: its spec's fields, and the user's objects it needs (made before adoption). */
interface Routing {
  spec: Record<string, unknown>;
  create(f: TickFixture): Promise<void>;
}

/**
 * `app` adopted at the 6 its HPA asks for (300m over pods of 100m at 50 %), primary autoscaled at 6. With `routing`,
 * its policy has those fields and the load is primary's own (a weighted router's canary gets its weight's share).
 */
async function adoptedAt6(steps: unknown[], prompt = true, routing?: Routing): Promise<TickFixture> {
  const f = await env.fixture();
  await routing?.create(f);
  const labels = { app: 'app' };
  await f.apps.createNamespacedDeployment({
    namespace: f.namespace,
    body: {
      metadata: { name: 'app', labels, annotations: { [CPU_LOAD_ANNOTATION]: '300m' } },
      spec: {
        replicas: 4,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: { containers: [{ name: 'app', image: 'app:1', resources: { requests: { cpu: '100m' } } }] },
        },
      },
    },
  });
  await env.sandbox
    .client(AutoscalingV2Api)
    .createNamespacedHorizontalPodAutoscaler({ namespace: f.namespace, body: userHpa(prompt) });
  await waitFor(async () => (await hpaOf(f, 'app')).status?.currentReplicas === 6, 10_000, 'the HPA to scale app to 6');
  await f.settle();
  await f.applyPolicy(env.spec({ steps, ...routing?.spec }));
  await f.adopt();
  await waitFor(async () => (await hpaOf(f, 'app-primary')).status?.currentReplicas === 6, 10_000, "primary's HPA");
  await (routing ? routedLoad(f, 300, 0) : serviceLoad(f, '300m'));
  return f;
}

/** The canary count Kubestead gives a 25 % step against primary's count (within the HPA's bounds). */
const share = (primary: number): number => Math.min(MAX, Math.max(MIN, nearestCanaryCount(25, primary)));

/**
 * Ticks (as the controller does on every change) until both HPAs are at rest, everything has rolled out and the canary
 * has its share of primary's count; returns primary's count.
 */
async function steady(f: TickFixture, what: string, shareOf = share): Promise<number> {
  let seen = '';
  await waitFor(
    async () => {
      await f.tick();
      const [primary, canary, user, copy] = await Promise.all([
        f.deployment('app-primary'),
        f.deployment('app'),
        hpaOf(f, 'app'),
        hpaOf(f, 'app-primary'),
      ]);
      const [p, c] = [primary.spec?.replicas ?? 0, canary.spec?.replicas ?? 0];
      const wants = [copy.status?.desiredReplicas, user.status?.desiredReplicas];
      seen = `primary ${p} (HPA wants ${wants[0]}), canary ${c} (HPA wants ${wants[1]})`;
      return (
        rolledOut(primary) && rolledOut(canary) && wants[0] === p && wants[1] === c && c === Math.max(shareOf(p), c)
      );
    },
    15_000,
    () => `${what}: ${seen}`,
  );
  return (await f.deployment('app-primary')).spec?.replicas ?? 0;
}

/** Writes that undo the previous write of another writer (A→B by one, B→A by the other): two controllers fighting. */
function undone(writes: ScaleWrite[]): string[] {
  return writes.flatMap((w, i) => {
    const before = writes[i - 1];
    return before && before.user !== w.user && before.to === w.from && before.from === w.to
      ? [`${before.from}→${before.to} by ${before.user}, undone by ${w.user}`]
      : [];
  });
}

/** Deletes the pods of `deployment` that are not ready: its ReplicaSet replaces them (as a restarted pod would be). */
async function deleteUnready(f: TickFixture, deployment: string): Promise<void> {
  const pods = await f.core.listNamespacedPod({ namespace: f.namespace });
  for (const pod of pods.items.filter((p) => p.metadata?.name?.startsWith(`${deployment}-`) && !servesNow(p)))
    await f.core.deleteNamespacedPod({ namespace: f.namespace, name: pod.metadata?.name ?? '' });
}

const line = (writes: ScaleWrite[]): string => writes.map((w) => `${w.from}→${w.to} (${w.user})`).join(', ');

describe('a replica-split canary of an autoscaled Deployment (docs/hpa.md)', () => {
  it("follows its share of primary's autoscaled count as load rises and falls, without two writers on one /scale", async () => {
    const f = await adoptedAt6([{ weight: 25, soak: '1h' }]);
    env.sandbox.scales.clear();
    const started = Date.now();
    await f.setImage('app:2');
    const sampler = await sampleReadyPods(env.sandbox, f.namespace);
    const atRest = await steady(f, 'the canary at 25 %');
    // the load triples: primary's HPA scales it up, the canary follows its share
    await serviceLoad(f, '900m');
    const scaled = await waitFor(
      async () => {
        const [primary, copy] = await Promise.all([f.deployment('app-primary'), hpaOf(f, 'app-primary')]);
        const p = primary.spec?.replicas ?? 0;
        return p > atRest && copy.status?.desiredReplicas === p && p;
      },
      10_000,
      "primary's HPA to scale it up",
    );
    // one tick after primary scaled, the canary has at least its share of primary's new count
    await f.tick();
    expect((await f.status()).canaryReplicas).toBeGreaterThanOrEqual(share(scaled));
    const up = await steady(f, 'after the load rise');
    expect(up).toBeGreaterThan(atRest);
    // and falls back: both come down again
    await serviceLoad(f, '300m');
    // as for the rise: primary's HPA must have read the fall before "at rest" can mean the new state
    await waitFor(
      async () => ((await hpaOf(f, 'app-primary')).status?.desiredReplicas ?? up) < up,
      10_000,
      "primary's HPA to scale it down",
    );
    const down = await steady(f, 'after the load fall');
    expect(down).toBeLessThan(up);
    const samples = await sampler.stop();
    const minutes = Math.max(1, (Date.now() - started) / 60_000);
    for (const name of ['app', 'app-primary']) {
      const writes = env.sandbox.scales.list({ namespace: f.namespace, name });
      expect(undone(writes), `${name}: ${line(writes)}`).toEqual([]);
      expect(writes.length / minutes, `${name}: ${line(writes)}`).toBeLessThanOrEqual(12);
    }
    console.log(
      `primary ${atRest} → ${up} → ${down}; writes: app ${line(env.sandbox.scales.list({ namespace: f.namespace, name: 'app' }))}; ` +
        `app-primary ${line(env.sandbox.scales.list({ namespace: f.namespace, name: 'app-primary' }))}; ready min ${Math.min(...samples)}`,
    );
  });

  it('a promotion under load gives the new primary the serving count before traffic moves: never fewer ready pods', async () => {
    // Kubernetes' default scale-down window: the surge of the promotion's roll does not look like a load drop
    const f = await adoptedAt6([{ weight: 25, soak: '1m' }], false);
    await f.setImage('app:2');
    const primary = await steady(f, 'the canary at 25 %');
    const serving = primary + share(primary);
    const sampler = await sampleReadyPods(env.sandbox, f.namespace);
    await f.clock.advance(61_000);
    const status = await f.tickUntil((s) => s.phase === 'Succeeded', 1_000);
    const samples = await sampler.stop();
    expect(status.lastDecision?.action).toBe('promote');
    expect(samples.length).toBeGreaterThan(5);
    expect(
      Math.min(...samples),
      `ready pods sampled during the promotion: ${samples.join(' ')}`,
    ).toBeGreaterThanOrEqual(serving);
    const promoted = await f.deployment('app-primary');
    expect(promoted.spec?.template?.spec?.containers[0]?.image).toBe('app:2');
    expect(promoted.spec?.replicas).toBeGreaterThanOrEqual(serving);
    expect((await f.deployment('app')).spec?.replicas).toBe(0);
    // primary's HPA held the serving count as its minimum while the promotion lasted; then the user's minimum again
    await f.tick();
    expect((await hpaOf(f, 'app-primary')).spec?.minReplicas).toBe(MIN);
  });
  it('a rollback during a scale-up gives primary the serving count before the canary goes: never fewer ready pods', async () => {
    // Kubernetes' default scale-down window: primary's HPA does not take back what the canary's pods carried
    const f = await adoptedAt6([{ weight: 25, soak: '1h' }], false);
    await f.setImage('app:2');
    await steady(f, 'the canary at 25 %');
    // primary's new pods are slow to be ready (held until the canary has been seen to wait for them): were they ready
    // at once, primary's HPA alone would make up for a canary dropped first, and the order would not show
    const workloads = env.sandbox.workloads!;
    workloads.neverReady(f.namespace, 'app-primary');
    // the load triples: both HPAs scale up, and the breach comes while primary's new pods are not ready
    await serviceLoad(f, '900m');
    await waitFor(
      async () => {
        const primary = await f.deployment('app-primary');
        return (primary.spec?.replicas ?? 0) > (primary.status?.readyReplicas ?? 0);
      },
      10_000,
      "primary's HPA to start scaling it up",
    );
    const sampler = await sampleReadyPods(env.sandbox, f.namespace);
    // what served before the rollback, or all primary may have (its HPA's maxReplicas) when the canary's pods were more
    const before = Math.min(sampler.samples[0] ?? 0, MAX);
    env.prom.set(0.4);
    try {
      await f.clock.advance(11_000);
      const rolledBack = await f.tickUntil((s) => s.phase === 'RolledBack', 1_000, 10, false);
      expect(rolledBack.lastDecision?.action).toBe('rollback');
      // more ticks while primary's new pods are not ready: the canary keeps its pods (and its traffic) all along
      for (let i = 0; i < 3; i++) await f.clock.advance(1_000).then(() => f.tick());
      expect((await f.status()).canaryReplicas).toBeGreaterThan(0);
      expect((await f.deployment('app')).spec?.replicas).toBeGreaterThan(0);
      // primary's pods become ready: the rollback ends
      workloads.healthy(f.namespace, 'app-primary');
      await deleteUnready(f, 'app-primary');
      await waitFor(async () => rolledOut(await f.deployment('app-primary')), 10_000, "primary's new pods ready");
      await f.tickUntil((s) => s.phase === 'RolledBack' && s.canaryReplicas === 0, 1_000, 20, false);
    } finally {
      env.prom.set(0.001);
      workloads.healthy(f.namespace, 'app-primary');
    }
    const samples = await sampler.stop();
    expect(samples.length).toBeGreaterThan(3);
    expect(Math.min(...samples), `ready pods sampled during the rollback: ${samples.join(' ')}`).toBeGreaterThanOrEqual(
      before,
    );
    expect((await f.deployment('app')).spec?.replicas).toBe(0);
    // primary's HPA held the serving count while the canary waited; the next tick gives the user's minimum back
    await f.tick();
    expect((await hpaOf(f, 'app-primary')).spec?.minReplicas).toBe(MIN);
    const reasons = await f.eventReasons();
    expect(reasons).toContain('AutoscalerMinimumRestored');
    expect(reasons).not.toContain('AutoscalerUpdated');
  });
});

/** The writer of the sandbox's HPAs (kube-controller-manager's horizontal-pod-autoscaler service account). */
const HPA_USER = 'system:serviceaccount:kube-system:horizontal-pod-autoscaler';

/** The user's Service and HTTPRoute in front of `app` (Gateway API); the policy routes through them, sized `canaryScale`. */
const gatewayRouting = (canaryScale: string): Routing => ({
  spec: { trafficRouting: gateway.trafficRouting, canaryScale },
  async create(f) {
    await f.core.createNamespacedService({ namespace: f.namespace, body: USER_SERVICE });
    await gateway.create(f);
  },
});

/**
 * Kubestead's writes of a running canary under a count the HPA wrote since Kubestead's own last write: taking back
 * what the HPA gave (a write of 0, the end of the canary, is not one).
 */
function underTheHpa(writes: ScaleWrite[]): string[] {
  let since: number[] = [];
  return writes.flatMap((w) => {
    if (w.user === HPA_USER) {
      since.push(w.to);
      return [];
    }
    const highest = Math.max(0, ...since);
    since = [];
    return w.to > 0 && w.to < highest ? [`${w.from}→${w.to} by ${w.user}, the HPA had written ${highest}`] : [];
  });
}

/**
 * Proportional under uneven load (docs/hpa.md): the canary's requests cost a fifth of primary's, so its HPA wants fewer
 * pods than its share of primary's count. At 600m and 50 %, primary's HPA wants 6 (its share: 3), the canary's 2 (60m
 * on 100m pods at 50 %). Raising the canary back to its share at every tick, Kubestead would write its /scale against
 * the HPA at every sync; it raises it only when primary scaled after the HPA scaled the canary. Ticks (as the
 * controller does on every change) until the canary has been at the HPA's 2 for 5 ticks in a row, Kubestead writing
 * nothing (a raise would come at the first tick after the HPA's write).
 */
async function unevenLoad(f: TickFixture): Promise<void> {
  const primaryWrites = () => env.sandbox.scales.list({ namespace: f.namespace, name: 'app-primary' });
  const from = { app: canaryWrites(f).length, primary: primaryWrites().length };
  await routedLoad(f, 600, 50, 0.2);
  let quiet = 0;
  await waitFor(
    async () => {
      const before = canaryWrites(f).length;
      await f.tick();
      const [primary, canary] = await Promise.all([f.deployment('app-primary'), f.deployment('app')]);
      const atRest = primary.spec?.replicas === 6 && canary.spec?.replicas === 2 && canaryWrites(f).length === before;
      quiet = atRest ? quiet + 1 : 0;
      return quiet >= 5;
    },
    15_000,
    () => `the canary at the HPA's 2, primary at 6, no write for 5 ticks: ${line(canaryWrites(f).slice(from.app))}`,
  );
  const writes = canaryWrites(f).slice(from.app);
  const grew = primaryWrites()
    .slice(from.primary)
    .filter((w) => w.to > w.from);
  console.log(`proportional, uneven load: ${line(writes)}; app-primary ${line(grew)}`);
  // at most one raise for each time primary grew (here 3→6), taken back by the HPA once: no alternation
  expect(writes.filter((w) => w.user !== HPA_USER).length, line(writes)).toBeLessThanOrEqual(grew.length);
  expect(writes.at(-1)?.user, line(writes)).toBe(HPA_USER);
}

const canaryWrites = (f: TickFixture): ScaleWrite[] => env.sandbox.scales.list({ namespace: f.namespace, name: 'app' });

/** The weighted step's canary is at `weight` % with every one of its pods ready: ticks (1 s apart) until it is. */
const weightGiven = (f: TickFixture, weight: number) => f.tickUntil((s) => s.effectiveWeight === weight, 1_000);

describe.skipIf(!present)('a weighted canary (Gateway API) of an autoscaled Deployment (docs/hpa.md)', () => {
  beforeAll(() => installRouterCrds(env.sandbox));

  it.each(['autoscaled', 'proportional'])(
    'canaryScale: %s: the HPA scales the canary up and down during its steps; Kubestead never writes against it',
    async (mode) => {
      const f = await adoptedAt6(
        [
          { weight: 25, soak: '1m' },
          { weight: 50, soak: '1h' },
        ],
        true,
        gatewayRouting(mode),
      );
      env.sandbox.scales.clear();
      const started = Date.now();
      const sampler = await sampleReadyPods(env.sandbox, f.namespace);
      await f.setImage('app:2');
      await weightGiven(f, 25);
      await routedLoad(f, 300, 25);
      const canary = (await f.deployment('app')).spec?.replicas ?? 0;
      // The load triples while the advance's tick reads the Deployments (the controller's cache): the user's HPA scales
      // the canary up before the tick writes its /scale, as it may at any moment of a tick (the race made, not awaited).
      let raced = 0;
      env.sandbox.faults.interleave(
        { method: 'GET', path: new RegExp(`^/apis/apps/v1/namespaces/${f.namespace}/deployments(\\?.*)?$`) },
        async () => {
          await routedLoad(f, 900, 25);
          raced = await waitFor(
            () => canaryWrites(f).find((w) => w.user === HPA_USER && w.to > canary)?.to ?? 0,
            10_000,
            "the user's HPA to scale the canary up",
          );
        },
      );
      await f.clock.advance(61_000);
      await f.tick();
      expect(raced, 'the HPA wrote between the read and the write of the advance').toBeGreaterThan(canary);
      expect((await f.status()).currentStep).toBe(1);
      expect((await f.deployment('app')).spec?.replicas, line(canaryWrites(f))).toBeGreaterThanOrEqual(raced);
      await weightGiven(f, 50);
      // ... and falls back: both HPAs scale down (no stabilization window), and Kubestead lets the canary's go
      await routedLoad(f, 300, 50);
      await waitFor(
        async () => ((await hpaOf(f, 'app')).status?.desiredReplicas ?? raced) < raced,
        10_000,
        "the user's HPA to scale the canary down",
      );
      const shareOf =
        mode === 'autoscaled' ? () => 0 : (p: number) => Math.min(MAX, Math.max(MIN, podsForWeight(50, p)));
      const down = await steady(f, 'after the load fall', shareOf);
      const samples = await sampler.stop();
      const minutes = Math.max(1, (Date.now() - started) / 60_000);
      const [writes, primary] = ['app', 'app-primary'].map((name) =>
        env.sandbox.scales.list({ namespace: f.namespace, name }),
      ) as [ScaleWrite[], ScaleWrite[]];
      const shown = `app ${line(writes)}; app-primary ${line(primary)}`;
      console.log(`${mode}: ${shown}; primary ${down} after the fall; ready min ${Math.min(...samples)}`);
      expect((await f.deployment('app')).spec?.replicas, shown).toBeLessThan(raced);
      expect(underTheHpa(writes), shown).toEqual([]);
      for (const ws of [writes, primary]) {
        expect(undone(ws), shown).toEqual([]);
        // each load change and each step moves a Deployment a few times; two writers fighting write at every sync
        expect(ws.length / minutes, shown).toBeLessThanOrEqual(12);
      }
      // autoscaled: Kubestead only starts the canary (from 0); every count in between is the HPA's
      if (mode === 'autoscaled')
        expect(
          writes.filter((w) => w.user !== HPA_USER && w.from > 0),
          shown,
        ).toEqual([]);
      // primary's /scale is its own HPA's alone during the canary
      expect(
        primary.filter((w) => w.user !== HPA_USER),
        shown,
      ).toEqual([]);
      // the capacity invariant: never fewer ready pods than the 6 before the canary (what both HPAs want at 300m)
      expect(Math.min(...samples), `ready pods sampled: ${samples.join(' ')}`).toBeGreaterThanOrEqual(6);
      if (mode === 'proportional') await unevenLoad(f);
    },
    60_000,
  );
});
