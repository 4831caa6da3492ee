import { AutoscalingV2Api, type V1Pod, type V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Body } from '../support/sandbox.js';
import { installRouterCrds, thirdPartyCrdsPresent } from '../routers/support.js';
import { scenario } from './scenario.js';
import { GROUP, MERGE, type TickFixture } from './support.js';
import { waitFor } from '../support/wait.js';
import { serving, watchPods } from '../support/capacity.js';
import { rolledOut } from '../../src/pipeline/actuate/deployments.js';
import { FINALIZER } from '../../src/adapters/kube/names.js';
import {
  type Case,
  gateway,
  istio,
  nginx,
  replicas,
  type Selector,
  selectorOf,
  USER_SERVICE,
} from './blue-green-routers.js';

/**
 * Blue-green driven by the real tick (ManualClock) with replica routing (the user's Service selector) and with each
 * weighted router (Gateway API's HTTPRoute, Istio's VirtualService + DestinationRule, ingress-nginx's canary Ingress,
 * on their published CRDs): at every tick the pods the user's traffic reaches are sampled: one version, at least the
 * full count of them Ready (docs/strategies.md, "Blue-green").
 */

const env = scenario();
const present = thirdPartyCrdsPresent();
const INTERVAL_MS = 10_000;
const FULL = 4;
// Two intervals of soak, three of scaleDownDelay: each stage is held over more than one tick, no longer.
const BLUE_GREEN = { previewService: 'app-preview', soak: '20s', scaleDownDelay: '30s' };
const isReady = (pod: V1Pod): boolean =>
  pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true &&
  !pod.metadata?.deletionTimestamp;

/** The Ready pods a selector selects, by image. */
async function readyImages(f: TickFixture, selector: Selector): Promise<string[]> {
  const labelSelector = Object.entries(selector)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const pods = (await f.core.listNamespacedPod({ namespace: f.namespace, labelSelector })).items;
  return pods.filter(isReady).map((pod) => pod.spec?.containers[0]?.image ?? '?');
}

/** What the user's traffic reaches now: one version, at least FULL of its pods Ready; that version's image. */
async function sample(f: TickFixture, c: Case): Promise<string> {
  const images = (await Promise.all((await c.reached(f)).map((selector) => readyImages(f, selector)))).flat();
  expect(new Set(images).size, `user traffic reaches ${images.join(', ')}`).toBe(1);
  expect(images.length).toBeGreaterThanOrEqual(FULL);
  return images[0]!;
}

/** Primary's Ready pods: the old version's count, sampled (never below FULL until the promotion). */
async function primaryReady(f: TickFixture): Promise<number> {
  const pods = await f.core.listNamespacedPod({ namespace: f.namespace, labelSelector: 'kubestead.io/role=primary' });
  return pods.items.filter(isReady).length;
}

/** The target, the user's Service (and route), the policy adopted; returns the user's objects as created. */
async function adopted(
  f: TickFixture,
  c: Case,
  blueGreen: Record<string, unknown> = BLUE_GREEN,
  extra: Record<string, unknown> = {},
): Promise<Body> {
  await f.createDeployment('app', 'app:1', FULL);
  await f.core.createNamespacedService({ namespace: f.namespace, body: USER_SERVICE });
  await c.create(f);
  const created = await c.read(f);
  await f.settle();
  const { steps: _steps, ...spec } = env.spec({ trafficRouting: c.trafficRouting });
  await f.applyPolicy({ ...spec, ...extra, strategy: 'blueGreen', blueGreen });
  await f.adopt();
  return created;
}

/** One interval: the clock moves, the tick runs, the sandbox's pods settle; the user's traffic sampled after each. */
async function step(f: TickFixture, c: Case, seen: Set<string>, settle = () => f.settle()): Promise<void> {
  await f.clock.advance(INTERVAL_MS);
  await f.tick();
  seen.add(await sample(f, c));
  await settle();
  seen.add(await sample(f, c));
}

async function until(
  f: TickFixture,
  c: Case,
  seen: Set<string>,
  done: (s: Body) => boolean,
  { max = 30, settle = () => f.settle() } = {},
): Promise<Body> {
  for (let i = 0; i < max; i++) {
    await step(f, c, seen, settle);
    const status = await f.status();
    if (done(status)) return status;
  }
  throw new Error(`status never reached the expected state: ${JSON.stringify(await f.status())}`);
}

/** The preview Service as a first write made too early leaves it: naming a ReplicaSet that is not the new one. */
async function stalePreview(f: TickFixture): Promise<void> {
  const service = await f.core.readNamespacedService({ name: 'app-preview', namespace: f.namespace });
  service.spec = { ...service.spec, selector: { ...service.spec?.selector, 'pod-template-hash': 'not-the-new-one' } };
  await f.core.replaceNamespacedService({ name: 'app-preview', namespace: f.namespace, body: service });
}

/**
 * The sandbox has done what it will with pods that never get Ready (`:unready`): every Deployment's pods started,
 * the ones with that image Running and unready, every other one rolled out.
 */
async function started(f: TickFixture): Promise<void> {
  await waitFor(
    async () => {
      const deployments = (await f.apps.listNamespacedDeployment({ namespace: f.namespace })).items;
      const pods = (await f.core.listNamespacedPod({ namespace: f.namespace })).items;
      const unready = pods.filter((p) => p.spec?.containers[0]?.image?.endsWith(':unready'));
      return (
        unready.every((p) => p.status?.phase === 'Running') &&
        deployments.every((d) =>
          d.spec?.template.spec?.containers[0]?.image?.endsWith(':unready')
            ? (d.status?.replicas ?? 0) === d.spec.replicas && d.status?.observedGeneration === d.metadata?.generation
            : rolledOut(d),
        )
      );
    },
    10_000,
    'pods to start',
  );
}

async function previewSelects(f: TickFixture): Promise<string[]> {
  return readyImages(f, await selectorOf(f, 'app-preview'));
}

async function deletePolicy(f: TickFixture): Promise<void> {
  await f.objects.deleteNamespacedCustomObject({ ...GROUP, namespace: f.namespace, name: 'app' });
  for (let i = 0; i < 20; i++) {
    const exists = await f.objects
      .getNamespacedCustomObject({ ...GROUP, namespace: f.namespace, name: 'app' })
      .then(() => true)
      .catch(() => false);
    if (!exists) return;
    await f.tick();
    await f.settle();
  }
  throw new Error('the policy was never handed back');
}

/** What a kubelet writes when a readiness probe starts failing: one pod of the new version goes unready. */
async function goUnready(f: TickFixture, readyAfter = FULL - 1): Promise<void> {
  const pods = (await f.core.listNamespacedPod({ namespace: f.namespace })).items;
  const pod = pods.find((p) => serving(p) && p.spec?.containers[0]?.image === 'app:2');
  if (!pod?.metadata?.name) throw new Error('no Ready pod of the new version');
  pod.status = {
    ...pod.status,
    conditions: pod.status?.conditions?.map((c) =>
      c.type === 'Ready' || c.type === 'ContainersReady' ? { ...c, status: 'False', reason: 'ContainersNotReady' } : c,
    ),
    containerStatuses: pod.status?.containerStatuses?.map((c) => ({ ...c, ready: false })),
  };
  await f.core.replaceNamespacedPodStatus({ namespace: f.namespace, name: pod.metadata.name, body: pod });
  await waitFor(
    async () => (await f.deployment('app')).status?.readyReplicas === readyAfter,
    10_000,
    'the new version to count one pod unready',
  );
}

/** The pods of the user's Deployment (not primary's). */
async function userPods(f: TickFixture): Promise<V1Pod[]> {
  const pods = await f.core.listNamespacedPod({ namespace: f.namespace, labelSelector: 'app=app,!kubestead.io/role' });
  return pods.items.filter((p) => !p.metadata?.deletionTimestamp);
}

type PodCounts = { running: number; ready: number };

/** The user's Deployment runs `running` pods of `image`, `ready` of them Ready (the others `neverReady`'s). */
async function podsAre(f: TickFixture, image: string, { running, ready }: PodCounts): Promise<boolean> {
  const pods = (await userPods(f)).filter((p) => p.spec?.containers[0]?.image === image);
  const started = pods.every((p) => p.status?.phase === 'Running');
  return started && pods.length === running && pods.filter(isReady).length === ready;
}

/** The user's pods, for a failure message: `image phase ready` each. */
async function podsOf(f: TickFixture): Promise<string> {
  const pods = await userPods(f);
  return pods.map((p) => `${p.spec?.containers[0]?.image} ${p.status?.phase} ${isReady(p)}`).join('; ');
}

async function runningPods(f: TickFixture, image: string, counts: PodCounts): Promise<void> {
  await waitFor(
    () => podsAre(f, image, counts),
    10_000,
    `${counts.running} pods of ${image} running, ${counts.ready} of them Ready`,
  );
}

/**
 * The user's HPA of the target. Its pods report no CPU here, so the sandbox's HPA controller writes no count of its
 * own: the test writes the scale-up, through /scale as the HPA does.
 */
const USER_HPA: V2HorizontalPodAutoscaler = {
  metadata: { name: 'app' },
  spec: {
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'app' },
    minReplicas: 2,
    maxReplicas: 10,
    metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }],
  },
};

const missing = (f: TickFixture, name: string) =>
  f.core.readNamespacedService({ namespace: f.namespace, name }).then(
    () => false,
    () => true,
  );

describe.skipIf(!present)('blue-green through the tick', () => {
  beforeAll(() => installRouterCrds(env.sandbox));

  describe.each([replicas, gateway, istio, nginx])('$name', (c) => {
    it('preview at full count, the switch in one write, the old version kept, then promoted; deletion hands back', async () => {
      const f = await env.fixture();
      const created = await adopted(f, c);
      const seen = new Set<string>();
      await f.setImage('app:2');
      await f.tick();
      expect(await f.status()).toMatchObject({ phase: 'Progressing', currentStep: 0, stage: 'preview', step: '1/2' });
      expect(await sample(f, c)).toBe('app:1');
      expect((await f.deployment('app')).spec?.replicas).toBe(FULL);
      await f.settle();
      // The first preview write may come before the new template's ReplicaSet exists and name none of its pods
      // (a race with the Deployment controller): whatever it named, the next tick points it at the new version.
      await stalePreview(f);
      // The soak starts only once every pod of the new version is Ready: a full soak from here.
      await step(f, c, seen);
      expect(await previewSelects(f)).toEqual(Array(FULL).fill('app:2'));
      const previewStart = Date.parse((await f.status()).stepStartedAt ?? '');
      const switched = await until(f, c, seen, (s) => s.currentStep === 1 && s.effectiveWeight === 100);
      expect(Date.parse(String(switched.stepStartedAt)) - previewStart).toBeGreaterThanOrEqual(20_000);
      expect(switched.stage).toBe('switched, old kept 30 s');
      expect(await sample(f, c)).toBe('app:2');
      expect(await primaryReady(f)).toBe(FULL);
      if (c === replicas) expect(await f.eventReasons()).toContain('ServiceSwitched');

      const done = await until(f, c, seen, (s) => s.phase === 'Succeeded');
      expect(done.stage).toBeUndefined();
      expect(seen).toEqual(new Set(['app:1', 'app:2']));
      expect(await sample(f, c)).toBe('app:2');
      expect((await f.deployment('app')).spec?.replicas).toBe(0);
      expect(await missing(f, 'app-preview')).toBe(true);

      await deletePolicy(f);
      expect(await c.read(f)).toEqual(c.released?.(created) ?? created);
    }, 90_000);

    it('a breach during the preview soak rolls back: the user traffic never reaches the new version', async () => {
      const f = await env.fixture();
      const created = await adopted(f, c);
      const seen = new Set<string>();
      await f.setImage('app:2');
      await f.tick();
      await f.settle();
      await step(f, c, seen);
      expect((await f.status()).stage).toBe('preview');
      env.prom.set(0.4);
      try {
        await step(f, c, seen);
        expect((await f.status()).phase).toBe('RolledBack');
      } finally {
        env.prom.set(0.001);
      }
      expect(seen).toEqual(new Set(['app:1']));
      expect((await f.deployment('app')).spec?.replicas).toBe(0);
      expect(await missing(f, 'app-preview')).toBe(true);
      await deletePolicy(f);
      expect(await c.read(f)).toEqual(c.released?.(created) ?? created);
    }, 60_000);

    it('a preview never Ready rolls back at progressDeadline from its start: the user traffic stays on the old', async () => {
      const f = await env.fixture();
      const created = await adopted(f, c, BLUE_GREEN, { podHealth: { progressDeadline: '30s' } });
      const seen = new Set<string>();
      await f.setImage('app:unready');
      await f.tick();
      const began = String((await f.status()).stepStartedAt);
      expect(Date.parse(began)).toBe(f.clock.now());
      await started(f);
      const starts = new Set<string>();
      const done = await until(
        f,
        c,
        seen,
        (s) => {
          if (s.phase === 'Progressing') starts.add(String(s.stepStartedAt));
          return s.phase !== 'Progressing';
        },
        { settle: () => started(f) },
      );
      // While it waited, the soak clock started again at every tick; the preview's start stayed in status.
      expect(starts.size).toBeGreaterThan(1);
      expect(done.previewStartedAt).toBe(began);
      expect(done.phase).toBe('RolledBack');
      expect(done.lastDecision.reasons[0].rule).toBe('preview-deadline');
      expect(Date.parse(String(done.lastDecision.time)) - Date.parse(began)).toBe(30_000);
      expect(seen).toEqual(new Set(['app:1']));
      await started(f);
      expect(await sample(f, c)).toBe('app:1');
      expect((await f.deployment('app')).spec?.replicas).toBe(0);
      expect(await missing(f, 'app-preview')).toBe(true);
      // The user reverts the template (a hand back waits for the target's pods to be Ready), then deletes the policy.
      await f.setImage('app:1');
      await f.tick();
      await f.settle();
      await deletePolicy(f);
      expect(await c.read(f)).toEqual(c.released?.(created) ?? created);
    }, 90_000);

    it.each([
      ['mid-preview', (s: Body) => s.currentStep === 0 && s.stage === 'preview'],
      ['mid-scaleDownDelay', (s: Body) => s.currentStep === 1 && s.effectiveWeight === 100],
    ] as const)(
      'deleting the policy %s leaves nothing added, traffic on one version',
      async (_when, at) => {
        const f = await env.fixture();
        const created = await adopted(f, c);
        const seen = new Set<string>();
        await f.setImage('app:2');
        await f.tick();
        await f.settle();
        await until(f, c, seen, at);
        await deletePolicy(f);
        expect(await c.read(f)).toEqual(c.released?.(created) ?? created);
        expect(await missing(f, 'app-preview')).toBe(true);
        await f.settle();
        // The new version was not promoted: the hand-back rolls it back first (docs/operating.md, "A policy deleted
        // mid-canary"), so the user's Deployment serves the old template at full count.
        expect(await sample(f, c)).toBe('app:1');
      },
      90_000,
    );

    it('a breach inside scaleDownDelay switches back within one interval, the old pods never below full count', async () => {
      const f = await env.fixture();
      const created = await adopted(f, c);
      const seen = new Set<string>();
      await f.setImage('app:2');
      await f.tick();
      await f.settle();
      const old: number[] = [];
      await until(f, c, seen, (s) => s.currentStep === 1 && s.effectiveWeight === 100);
      old.push(await primaryReady(f));
      expect(await sample(f, c)).toBe('app:2');
      env.prom.set(0.4);
      try {
        await f.clock.advance(INTERVAL_MS);
        await f.tick();
        old.push(await primaryReady(f));
        expect((await f.status()).phase).toBe('RolledBack');
        expect(await sample(f, c)).toBe('app:1');
      } finally {
        env.prom.set(0.001);
      }
      await f.settle();
      old.push(await primaryReady(f));
      expect(old).toEqual([FULL, FULL, FULL]);
      expect(await sample(f, c)).toBe('app:1');
      expect(await missing(f, 'app-preview')).toBe(true);
      await deletePolicy(f);
      expect(await c.read(f)).toEqual(c.released?.(created) ?? created);
    }, 90_000);

    it('a new pod unready inside scaleDownDelay switches back within one interval, the old pods never below full count', async () => {
      const f = await env.fixture();
      const created = await adopted(f, c);
      const seen = new Set<string>();
      await f.setImage('app:2');
      await f.tick();
      await f.settle();
      await until(f, c, seen, (s) => s.currentStep === 1 && s.effectiveWeight === 100);
      expect(await sample(f, c)).toBe('app:2');
      // Serving pods per version after every change to any pod (a watch): the old one's never below full count.
      const pods = await watchPods(env.sandbox, f.namespace, (all) => {
        const count = (image: string) => all.filter((p) => serving(p) && p.spec?.containers[0]?.image === image).length;
        return { old: count('app:1'), new: count('app:2') };
      });
      await goUnready(f);
      await f.clock.advance(INTERVAL_MS);
      await f.tick();
      // The first tick after the pod went unready switches back (not progressDeadline later).
      const back = await f.status();
      expect(back.phase).toBe('RolledBack');
      expect(back.lastDecision?.reasons[0]?.rule).toBe('switched-not-ready');
      expect(Date.parse(String(back.lastDecision?.time))).toBe(f.clock.now());
      expect(await sample(f, c)).toBe('app:1');
      await f.settle();
      expect(await sample(f, c)).toBe('app:1');
      const samples = await pods.stop();
      expect(samples.some((n) => n.new === FULL - 1)).toBe(true);
      expect(Math.min(...samples.map((n) => n.old))).toBe(FULL);
      expect(await missing(f, 'app-preview')).toBe(true);
      await deletePolicy(f);
      expect(await c.read(f)).toEqual(c.released?.(created) ?? created);
    }, 90_000);
  });

  it('inside scaleDownDelay an HPA scale-up is no switch-back; fewer Ready than the full count is', async () => {
    const f = await env.fixture();
    const created = await adopted(f, replicas);
    const seen = new Set<string>();
    await f.setImage('app:2');
    await f.tick();
    await f.settle();
    await until(f, replicas, seen, (s) => s.currentStep === 1 && s.effectiveWeight === 100);
    await env.sandbox
      .client(AutoscalingV2Api)
      .createNamespacedHorizontalPodAutoscaler({ namespace: f.namespace, body: USER_HPA });
    // The HPA scales the new version up under load: two more pods, starting (here: never Ready).
    env.sandbox.workloads?.neverReady(f.namespace, 'app');
    try {
      const scale = { spec: { replicas: FULL + 2 } };
      await f.apps.patchNamespacedDeploymentScale({ namespace: f.namespace, name: 'app', body: scale }, MERGE);
      await runningPods(f, 'app:2', { running: FULL + 2, ready: FULL });
      for (const _ of [1, 2]) {
        await f.clock.advance(INTERVAL_MS);
        await f.tick();
        expect(f.observer.decisions.at(-1)).toMatch(/:hold$/);
        expect(await f.status()).toMatchObject({ phase: 'Progressing', currentStep: 1, effectiveWeight: 100 });
        expect(await sample(f, replicas)).toBe('app:2');
        // The HPA's count stays: Kubestead never writes /scale against it (docs/hpa.md).
        expect((await f.deployment('app')).spec?.replicas).toBe(FULL + 2);
      }
      // One of the full count goes unready: 3 Ready of 6, under the full count 4.
      await goUnready(f, FULL - 1);
      await f.clock.advance(INTERVAL_MS);
      await f.tick();
      const back = await f.status();
      expect(back.phase).toBe('RolledBack');
      expect(back.lastDecision?.reasons[0]?.rule).toBe('switched-not-ready');
      expect(back.lastDecision?.reasons[0]?.message).toContain('3 pods of the new version ready');
      expect(await sample(f, replicas)).toBe('app:1');
      expect(await primaryReady(f)).toBe(FULL);
    } finally {
      env.sandbox.workloads?.healthy(f.namespace, 'app');
    }
    await deletePolicy(f);
    expect(await replicas.read(f)).toEqual(created);
  }, 60_000);

  it("a hand-back waits for the user's Deployment to be Ready: the policy stays, the old version serves", async () => {
    const f = await env.fixture();
    const created = await adopted(f, replicas);
    const seen = new Set<string>();
    await f.setImage('app:2');
    await f.tick();
    await f.settle();
    await step(f, replicas, seen);
    expect((await f.status()).stage).toBe('preview');
    // From here no new pod of the user's Deployment gets Ready (a readiness probe that fails).
    env.sandbox.workloads?.neverReady(f.namespace, 'app');
    try {
      await f.objects.deleteNamespacedCustomObject({ ...GROUP, namespace: f.namespace, name: 'app' });
      // Ticks give it the old template at 0, then (the canary's pods gone) primary's count; then the hand-back waits.
      // The samples' assertions fail the test at once (waitFor would take them for "not yet").
      const deadline = Date.now() + 10_000;
      while (!(await podsAre(f, 'app:1', { running: FULL, ready: 0 }))) {
        if (Date.now() > deadline) throw new Error(`no ${FULL} pods of app:1 running unready: ${await podsOf(f)}`);
        await f.tick();
        seen.add(await sample(f, replicas));
      }
      await f.tick();
      seen.add(await sample(f, replicas));
      const held = await f.policy();
      expect(held.metadata?.deletionTimestamp).toBeDefined();
      expect(held.metadata?.finalizers).toContain(FINALIZER);
      expect(await selectorOf(f, 'app')).toEqual({ app: 'app', 'kubestead.io/role': 'primary' });
      expect(await missing(f, 'app-preview')).toBe(false);
      expect(await primaryReady(f)).toBe(FULL);
      expect(seen).toEqual(new Set(['app:1']));
    } finally {
      env.sandbox.workloads?.healthy(f.namespace, 'app');
    }
    // Its pods replaced by ones that get Ready: the hand-back completes.
    for (const pod of await userPods(f))
      await f.core.deleteNamespacedPod({ namespace: f.namespace, name: pod.metadata?.name ?? '' });
    await deletePolicy(f);
    expect(await replicas.read(f)).toEqual(created);
    expect(await missing(f, 'app-preview')).toBe(true);
    expect(await sample(f, replicas)).toBe('app:1');
  }, 60_000);

  it('autoPromote: false waits for promote after the soak, then switches', async () => {
    const f = await env.fixture();
    await adopted(f, replicas, { ...BLUE_GREEN, autoPromote: false });
    const seen = new Set<string>();
    await f.setImage('app:2');
    await f.tick();
    await f.settle();
    const paused = await until(f, replicas, seen, (s) => s.phase === 'Paused');
    expect(paused).toMatchObject({ currentStep: 0, stage: 'preview' });
    expect(paused.lastDecision.reasons[0].rule).toBe('await-promotion');
    await step(f, replicas, seen);
    expect(await f.status()).toMatchObject({ phase: 'Paused', currentStep: 0 });
    expect(seen).toEqual(new Set(['app:1']));
    await f.objects.patchNamespacedCustomObject(
      {
        ...GROUP,
        namespace: f.namespace,
        name: 'app',
        body: {
          metadata: {
            annotations: {
              'kubestead.io/override': JSON.stringify({
                action: 'promote',
                actor: 'alice',
                time: new Date().toISOString(),
              }),
            },
          },
        },
      },
      MERGE,
    );
    await until(f, replicas, seen, (s) => s.currentStep === 1 && s.effectiveWeight === 100, { max: 3 });
    expect(await sample(f, replicas)).toBe('app:2');
  }, 60_000);
});
