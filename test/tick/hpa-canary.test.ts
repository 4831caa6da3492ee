import { AutoscalingV2Api, type V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { CPU_LOAD_ANNOTATION, CPU_LOAD_PODS_ANNOTATION, type ScaleWrite } from '@kubestead/sandbox';
import { nearestCanaryCount } from '../../src/adapters/routers/replicas.js';
import { rolledOut } from '../../src/pipeline/actuate/deployments.js';
import { sampleReadyPods, serving as servesNow } from '../support/capacity.js';
import { waitFor } from '../support/wait.js';
import { scenario } from './scenario.js';
import { MERGE, type TickFixture } from './support.js';

/** The sandbox's HPAs sync every 200 ms of its (real) clock: a test waits for their counts, never a fixed time. */
const env = scenario({ hpaSyncMs: 200 });
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
 */
async function routedLoad(f: TickFixture, total: number, weight: number): Promise<void> {
  const loads: Array<[string, number]> = [
    ['app-primary', (total * (100 - weight)) / 100],
    ['app', (total * weight) / 100],
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
