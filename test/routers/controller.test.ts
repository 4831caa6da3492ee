import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { Sandbox } from '@kubestead/sandbox';
import { type Body } from '../support/sandbox.js';
import { waitFor } from '../support/wait.js';
import {
  CANARY_INGRESS,
  canaryIngressOf,
  CASES,
  createObject,
  DESTINATION_RULE,
  readObject,
  type RouterCase,
} from './cases.js';
import { createApp, createPolicy, operatorWorld, policyOf, SOAK_MS, type OperatorWorld } from './operator.js';
import type { FakePrometheus } from '../tick/fake-prometheus.js';
import { thirdPartyCrdsPresent } from './support.js';
import { policyPath } from '../e2e/support.js';
import { actuations } from '../support/invariant.js';
import { chainHoldingI } from '../support/rollout-checks.js';

const present = thirdPartyCrdsPresent();
const slug = (name: string): string => name.toLowerCase().replace(/[^a-z0-9]+/g, '-');

/** What a scenario checks against the live objects. */
class LiveObjects {
  constructor(
    private readonly sandbox: Sandbox,
    private readonly ns: string,
    private readonly rc: RouterCase,
    readonly created: Body,
  ) {}

  /** The user's route object holds `canary`/`primary` (everything else as created), and the live integers say so. */
  async expectSplit(canary: number, primary: number): Promise<void> {
    const live = await readObject(this.sandbox, this.ns, this.rc.route);
    expect(live.spec).toEqual(this.rc.splitSpec(this.created, canary, primary));
    expect(live.metadata.labels).toEqual(this.created.metadata.labels);
    expect(live.metadata.annotations).toEqual(this.created.metadata.annotations);
    const split = await this.rc.liveSplit(this.sandbox, this.ns);
    if (this.rc.name === 'nginx' && canary === 0) {
      expect(split).toBeNull();
      expect((await readObject(this.sandbox, this.ns, CANARY_INGRESS).catch((e: { code?: number }) => e)).code).toBe(
        404,
      );
    } else {
      expect(split).toEqual({ canary, primary });
    }
    if (this.rc.name === 'nginx' && canary > 0) {
      const ingress = await readObject(this.sandbox, this.ns, CANARY_INGRESS);
      expect({ annotations: ingress.metadata.annotations, spec: ingress.spec }).toEqual(
        canaryIngressOf(this.created, canary, canary + primary),
      );
      expect(ingress.metadata.labels).toEqual({ 'app.kubernetes.io/managed-by': 'kubestead' });
    }
  }

  /** Kubestead's two Services (or, with subsets, the DestinationRule's labels) select primary and the canary ReplicaSet `hash`. */
  async expectTracks(hash: string): Promise<void> {
    const primary = { app: 'checkout', 'kubestead.io/role': 'primary' };
    const canary = { app: 'checkout', 'pod-template-hash': hash };
    const core = this.sandbox.client(CoreV1Api);
    if (!this.rc.usesServices) {
      const dr = await readObject(this.sandbox, this.ns, DESTINATION_RULE);
      expect(dr.spec.subsets).toEqual([
        { name: 'stable', labels: { 'kubestead.io/role': 'primary' } },
        { name: 'canary', labels: { 'pod-template-hash': hash } },
      ]);
      expect(
        (
          (await core
            .readNamespacedService({ name: 'checkout-canary', namespace: this.ns })
            .catch((e: { code?: number }) => e)) as { code?: number }
        ).code,
      ).toBe(404);
      return;
    }
    for (const [name, selector] of [
      ['checkout-primary', primary],
      ['checkout-canary', canary],
    ] as const) {
      const service = await core.readNamespacedService({ name, namespace: this.ns });
      expect(service.spec?.selector).toEqual(selector);
      expect(service.spec?.ports).toEqual([{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }]);
      expect(service.metadata?.labels).toEqual({ 'app.kubernetes.io/managed-by': 'kubestead' });
      expect(service.metadata?.ownerReferences?.[0]).toMatchObject({
        kind: 'RolloutPolicy',
        name: 'checkout',
        controller: false,
      });
    }
    expect((await core.readNamespacedService({ name: 'checkout', namespace: this.ns })).spec?.selector).toEqual({
      app: 'checkout',
    });
  }

  /** The target's pods are the canary: its count, and primary's image. */
  async expectWorkloads(canaryReplicas: number, primaryImage: string): Promise<void> {
    const apps = this.sandbox.client(AppsV1Api);
    expect((await apps.readNamespacedDeployment({ name: 'checkout', namespace: this.ns })).spec?.replicas).toBe(
      canaryReplicas,
    );
    const primary = await apps.readNamespacedDeployment({ name: 'checkout-primary', namespace: this.ns });
    expect(primary.spec?.template.spec?.containers[0]?.image).toBe(primaryImage);
  }

  /** The pod-template-hash of the target's ReplicaSet running `image`. */
  async hashOf(image: string): Promise<string> {
    const sets = await this.sandbox
      .client(AppsV1Api)
      .listNamespacedReplicaSet({ namespace: this.ns, labelSelector: 'app=checkout' });
    const found = sets.items.find(
      (rs) =>
        rs.metadata?.ownerReferences?.[0]?.name === 'checkout' &&
        rs.spec?.template?.spec?.containers[0]?.image === image,
    );
    return found?.metadata?.labels?.['pod-template-hash'] ?? '';
  }
}

/** The app, the router's objects and the policy, as a user creates them; returns once the policy adopted the app. */
async function adoptedApp(
  world: OperatorWorld,
  ns: string,
  rc: RouterCase,
  prom: FakePrometheus,
): Promise<LiveObjects> {
  await createApp(world.sandbox, ns);
  const created: Body[] = [];
  for (const object of rc.objects()) created.push(await createObject(world.sandbox, ns, object));
  await createPolicy(world.sandbox, ns, policyOf(rc, prom));
  await world.until(ns, 'adopted', (s) => s.phase === 'Idle');
  return new LiveObjects(world.sandbox, ns, rc, created[0]);
}

const atHalfPercent = (s: { phase?: string; currentStep?: number; effectiveWeight?: number }) =>
  s.phase === 'Progressing' && s.currentStep === 0 && s.effectiveWeight === 0.5;

/**
 * Someone edits the weights to 30/70 mid-step (`edit` does it, between ticks or during one): the
 * next tick records WeightDrift (Event and record) and writes 0.5 % back.
 */
async function driftIsCorrected(
  world: OperatorWorld,
  ns: string,
  rc: RouterCase,
  live: LiveObjects,
  edit: () => Promise<void>,
): Promise<string> {
  await edit();
  let events: string[] = [];
  const drift = await world.advanceUntil(
    async () => {
      events = await world.events(ns);
      return events.find((e) => e.startsWith('WeightDrift:'));
    },
    () => `the WeightDrift Event; events: ${events.join(' | ')}`,
  );
  expect(drift).toContain(
    `weight drift at step 1/2: ${rc.trafficRouting.istio ? 'istio' : Object.keys(rc.trafficRouting)[0]!} routing gave the canary 30% (`,
  );
  expect(drift).toContain('30/100 (30%)');
  expect(drift).toContain('), 0.5% wanted; set back to 0.5%');
  const record = world.records.find((r) => r.policy.namespace === ns && r.decision.reasons[0]?.rule === 'weight-drift');
  expect(record?.message).toBe(drift.slice('WeightDrift: '.length));
  await waitFor(
    async () => JSON.stringify(await rc.liveSplit(world.sandbox, ns)) === JSON.stringify({ canary: 5, primary: 995 }),
    10_000,
    'the weights written back',
  );
  await live.expectSplit(5, 995);
  expect((await world.status(ns)).effectiveWeight).toBe(0.5);
  return record!.message;
}

/** A status write of the policy as the API server applied it: the status written, and the route read right then. */
interface StatusWrite {
  phase?: string;
  effectiveWeight?: number;
  split: { canary: number; primary: number } | null;
}

/**
 * Watches every status write of the policy: each is served, then (before its answer) the status it wrote and the
 * router's split are read from the API server. A tick writes status once, at its end: the write that first shows
 * `RolledBack` ends the tick that decided the rollback, and the split then is what that tick left.
 */
function watchStatusWrites(world: OperatorWorld, ns: string, rc: RouterCase): { seen: StatusWrite[]; stop(): void } {
  const seen: StatusWrite[] = [];
  let stopped = false;
  const arm = (): void =>
    world.sandbox.faults.interleave({ method: 'PUT', path: `${policyPath(ns, 'checkout')}/status` }, async () => {
      if (stopped) return;
      const { phase, effectiveWeight } = await world.status(ns);
      seen.push({ phase, effectiveWeight, split: await rc.liveSplit(world.sandbox, ns) });
      arm();
    });
  arm();
  return {
    seen,
    stop: () => {
      stopped = true;
    },
  };
}

describe.skipIf(!present)('weighted routers driven by the operator (informers, queue, real tick; ManualClock)', () => {
  const world = operatorWorld();

  it.each(CASES.map((rc) => ({ name: rc.name, rc })))(
    '$name: one canary to Succeeded; one hand-edited mid-step (drift corrected, in the chain), then RolledBack with weight 0 read back in the same tick; the route matches the chain (I)',
    async ({ rc }) => {
      const w = world();
      const ns = `op-${slug(rc.name)}`;
      const prom = await w.prometheus();
      const live = await adoptedApp(w, ns, rc, prom);
      await live.expectSplit(0, 100);
      await live.expectWorkloads(0, 'shop/checkout:1');

      // A good release: 0.5 %, 5 %, promoted.
      await w.setImage(ns, 'shop/checkout:2');
      const half = await w.until(ns, 'the canary at 0.5 %', atHalfPercent);
      expect(half.canaryWeight).toBe(0.5);
      await live.expectSplit(5, 995);
      await live.expectTracks(await live.hashOf('shop/checkout:2'));
      await live.expectWorkloads(1, 'shop/checkout:1');
      const step1 = await w.advanceUntilStatus(
        ns,
        'step 1 at 60 %',
        (s) => s.currentStep === 1 && s.effectiveWeight === 60,
        SOAK_MS,
      );
      expect(step1.conditions?.find((c) => c.type === 'Degraded')?.status).toBe('False');
      await live.expectSplit(60, 40);
      await live.expectWorkloads(2, 'shop/checkout:1');
      const succeeded = await w.advanceUntilStatus(ns, 'Succeeded', (s) => s.phase === 'Succeeded', SOAK_MS);
      expect(succeeded).toMatchObject({ canaryWeight: 0, effectiveWeight: 0 });
      await live.expectSplit(0, 100);
      await live.expectWorkloads(0, 'shop/checkout:2');

      // A bad release: 0.5 %, a hand edit corrected, the check breached, rolled back.
      await w.setImage(ns, 'shop/checkout:3');
      await w.until(ns, 'the next canary at 0.5 %', atHalfPercent);
      await live.expectSplit(5, 995);
      await live.expectTracks(await live.hashOf('shop/checkout:3'));
      const drift = await driftIsCorrected(w, ns, rc, live, () => rc.handEdit(w.sandbox, ns, 30, 70));
      const writes = watchStatusWrites(w, ns, rc);
      prom.set(0.4);
      const rolledBack = await w.advanceUntilStatus(ns, 'RolledBack', (s) => s.phase === 'RolledBack');
      expect(rolledBack).toMatchObject({ canaryWeight: 0, effectiveWeight: 0, lastDecision: { action: 'rollback' } });
      // Abort (row 12): the tick that decided the rollback wrote the canary's weight to 0 and read it back before
      // its status write, the first to say RolledBack (no later tick, no later write needed).
      const endOfRollbackTick = await waitFor(
        () => writes.seen.find((write) => write.phase === 'RolledBack'),
        5000,
        () => `a status write saying RolledBack; seen: ${JSON.stringify(writes.seen)}`,
      );
      writes.stop();
      expect(endOfRollbackTick).toEqual({
        phase: 'RolledBack',
        effectiveWeight: 0,
        split: rc.name === 'nginx' ? null : { canary: 0, primary: 100 },
      });
      await live.expectSplit(0, 100);
      // The router's state against the chain (I with the cluster's actuations): the hand edit is a drift entry
      // (row 14), the rollback the release's one actuating decision after the first release's advance and promote.
      const entries = await chainHoldingI(w.sandbox, ns, 'checkout');
      const drifts = entries.filter((e) => e.kind === 'event' && e.decision?.reasons[0]?.rule === 'weight-drift');
      expect(drifts.map((e) => e.message)).toEqual([drift]);
      expect(actuations(entries)).toEqual(['advance 0', 'promote 1', 'rollback 0']);
      await live.expectWorkloads(0, 'shop/checkout:2');
      const reasons = (await w.events(ns)).map((e) => e.slice(0, e.indexOf(':')));
      expect(reasons).toEqual(
        expect.arrayContaining(['Adopted', 'CanaryStarted', 'Advanced', 'Promoted', 'Succeeded', 'RolledBack']),
      );
      // Waiting for the second canary pod at 60 % is no drift: the one WeightDrift is the hand edit's.
      expect(reasons.filter((r) => r === 'WeightDrift')).toHaveLength(1);
    },
    120_000,
  );

  it.each(CASES.map((rc) => ({ name: rc.name, rc })))(
    '$name: without its route object the policy is Ready=False and does nothing; the next interval after it appears, it proceeds',
    async ({ rc }) => {
      const w = world();
      const ns = `missing-${slug(rc.name)}`;
      const prom = await w.prometheus();
      await createApp(w.sandbox, ns);
      // The user's app runs (its ReplicaSet exists) before they write a policy for it: the route is what is missing.
      await waitFor(
        async () => (await w.sandbox.client(AppsV1Api).listNamespacedReplicaSet({ namespace: ns })).items.length > 0,
        10_000,
        'the ReplicaSet of checkout',
      );
      await createPolicy(w.sandbox, ns, policyOf(rc, prom));
      const waiting = await w.until(
        ns,
        'Ready=False',
        (s) => s.conditions?.some((c) => c.type === 'Ready' && c.status === 'False') ?? false,
      );
      expect(waiting.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
        reason: 'RouteMissing',
        message: rc.missing(ns),
        observedGeneration: 1,
      });
      expect(waiting.phase).toBeUndefined();
      expect(await w.events(ns)).toEqual([`RouteMissing: ${rc.missing(ns)}`]);
      const apps = w.sandbox.client(AppsV1Api);
      const core = w.sandbox.client(CoreV1Api);
      expect((await apps.readNamespacedDeployment({ name: 'checkout', namespace: ns })).spec?.replicas).toBe(2);
      expect((await apps.listNamespacedDeployment({ namespace: ns })).items.map((d) => d.metadata?.name)).toEqual([
        'checkout',
      ]);
      expect((await core.listNamespacedService({ namespace: ns })).items.map((d) => d.metadata?.name)).toEqual([
        'checkout',
      ]);

      // Route kinds are not watched: the policy's requeue interval finds the object.
      for (const object of rc.objects()) await createObject(w.sandbox, ns, object);
      await w.advanceUntilStatus(
        ns,
        'Ready=True',
        (s) => s.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
      );
      const adopted = await w.until(ns, 'adopted', (s) => s.phase === 'Idle');
      expect(adopted.effectiveWeight).toBe(0);
      expect((await apps.readNamespacedDeployment({ name: 'checkout', namespace: ns })).spec?.replicas).toBe(0);
    },
    60_000,
  );

  // The tick read the weight (no drift), then measured its checks while the edit landed: the read-back
  // at its end must not take 30 % as the weight it stands by, or no later tick would see drift.
  const smi = CASES.find((rc) => rc.name === 'smi')!;
  it('a hand edit that lands mid-tick, while the checks are measured, is drift on the next tick, not the new weight', async () => {
    const w = world();
    const ns = 'op-mid-tick';
    const prom = await w.prometheus();
    const live = await adoptedApp(w, ns, smi, prom);
    await w.setImage(ns, 'shop/checkout:2');
    await w.until(ns, 'the canary at 0.5 %', atHalfPercent);
    let edited = false;
    await driftIsCorrected(w, ns, smi, live, () => {
      prom.beforeNextAnswer(async () => {
        await smi.handEdit(w.sandbox, ns, 30, 70);
        edited = true;
      });
      return Promise.resolve();
    });
    expect(edited).toBe(true);
  }, 60_000);

  // The edit lands between the tick's write of 5/995 and the answer to it: a read after the write
  // would see 30 % and take it as the weight; the answer to the write is what status must show.
  it('a hand edit that lands right after the tick writes the weight is drift on the next tick, not the new weight', async () => {
    const w = world();
    const ns = 'op-after-write';
    const prom = await w.prometheus();
    const live = await adoptedApp(w, ns, smi, prom);
    let edited = false;
    w.sandbox.faults.interleave(
      { method: 'PUT', path: `/apis/split.smi-spec.io/v1alpha2/namespaces/${ns}/trafficsplits/checkout` },
      async () => {
        await smi.handEdit(w.sandbox, ns, 30, 70);
        edited = true;
      },
    );
    await w.setImage(ns, 'shop/checkout:2');
    await w.until(ns, 'the canary at 0.5 %, as the answer to the write gave it', atHalfPercent);
    expect(edited).toBe(true);
    await driftIsCorrected(w, ns, smi, live, () => Promise.resolve());
  }, 60_000);
});
