import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { Sandbox } from '@kubestead/sandbox';
import { serving } from '../support/capacity.js';
import { CASES, createObject, type RouterCase } from './cases.js';
import { AppsV1Api } from '@kubernetes/client-node';
import { waitFor } from '../support/wait.js';
import { createApp, createPolicy, INTERVAL_MS, operatorWorld, policyOf, SOAK_MS } from './operator.js';
import { thirdPartyCrdsPresent } from './support.js';

const present = thirdPartyCrdsPresent();

/** How many answers of 500 the canary's scale write gets before the fault is lifted. */
const FAILURES = 3;

/** The weight a route object gives `checkout-canary`: Istio's destination host, Gateway API's backendRef name. */
function canaryWeight(route: unknown): number {
  let sum = 0;
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(visit);
    if (!value || typeof value !== 'object') return;
    const entry = value as { name?: unknown; weight?: unknown; destination?: { host?: unknown } };
    const target = entry.destination?.host ?? entry.name;
    if (target === 'checkout-canary' && typeof entry.weight === 'number') sum += entry.weight;
    else Object.values(entry).forEach(visit);
  };
  visit((route as { spec?: unknown }).spec);
  return sum;
}

interface Moment {
  canaryWeight: number;
  canaryReady: number;
}

/**
 * The route's canary weight and the canary's ready pods after every change the API server stores in `namespace`, in
 * the order it stores them (the sandbox's update hook: no moment between two polls is missed).
 */
function watchTraffic(sandbox: Sandbox, namespace: string, rc: RouterCase): Moment[] {
  const moments: Moment[] = [];
  const pods = new Map<string, V1Pod>();
  let weight = 0;
  sandbox.api.updateHooks.push((type, _old, next) => {
    if (next.metadata.namespace !== namespace) return;
    if (type.kind === 'Pod') pods.set(next.metadata.name ?? '', next as V1Pod);
    else if (type.kind === rc.route.kind && next.metadata.name === rc.route.name) weight = canaryWeight(next);
    else return;
    const canary = [...pods.values()].filter((p) => !p.metadata?.labels?.['kubestead.io/role'] && serving(p));
    moments.push({ canaryWeight: weight, canaryReady: canary.length });
  });
  return moments;
}

const ROUTERS = CASES.filter((rc) => rc.name === 'istio' || rc.name === 'gatewayAPI');

describe.skipIf(!present)(
  'row 13 with a weighted router: the canary’s scale write fails (operator, ManualClock)',
  () => {
    const world = operatorWorld();

    it.each(ROUTERS.map((rc) => ({ name: rc.name, rc })))(
      '$name: retried, and the route gives the canary no weight until its pods are ready',
      async ({ rc }) => {
        const w = world();
        const ns = `partial-${rc.name.toLowerCase()}`;
        const prom = await w.prometheus();
        await createApp(w.sandbox, ns);
        for (const object of rc.objects()) await createObject(w.sandbox, ns, object);
        await createPolicy(w.sandbox, ns, policyOf(rc, prom));
        await w.until(ns, 'adopted', (s) => s.phase === 'Idle');

        const moments = watchTraffic(w.sandbox, ns, rc);
        const scale = `/apis/apps/v1/namespaces/${ns}/deployments/checkout/scale`;
        const before = w.sandbox.faults.fired;
        w.sandbox.faults.inject({ method: 'PATCH', path: scale, respond: 500, times: FAILURES });
        await w.setImage(ns, 'shop/checkout:2');
        const half = await w.advanceUntilStatus(
          ns,
          'the canary at 0.5 % after the refused scale writes',
          (s) => s.phase === 'Progressing' && s.currentStep === 0 && s.effectiveWeight === 0.5,
          1000,
        );
        expect(half.canaryWeight).toBe(0.5);
        expect(w.sandbox.faults.fired - before, 'the canary’s scale write refused').toBe(FAILURES);
        const refused = w.sandbox.requests.list({ method: 'PATCH', path: scale }).filter((r) => r.code === 500);
        expect(refused).toHaveLength(FAILURES);

        // Traffic reached the canary only once its pod was ready, at every stored change of the route and the pods.
        const weighted = moments.filter((m) => m.canaryWeight > 0);
        expect(weighted.length, 'the route gave the canary weight').toBeGreaterThan(0);
        expect(
          weighted.filter((m) => m.canaryReady === 0),
          `moments: ${moments.map((m) => `${m.canaryWeight}/${m.canaryReady}`).join(' ')}`,
        ).toEqual([]);
      },
      60_000,
    );

    it('gatewayAPI: a step soaked while its route write failed is not advanced: the weight is given, then the soak starts', async () => {
      const rc = ROUTERS.find((r) => r.name === 'gatewayAPI')!;
      const w = world();
      const ns = 'soak-without-traffic';
      const prom = await w.prometheus();
      await createApp(w.sandbox, ns);
      for (const object of rc.objects()) await createObject(w.sandbox, ns, object);
      await createPolicy(w.sandbox, ns, policyOf(rc, prom));
      await w.until(ns, 'adopted', (s) => s.phase === 'Idle');

      // Every write of the route fails while the step soaks: its canary pod is ready, and gets no traffic.
      const route = `/apis/gateway.networking.k8s.io/v1/namespaces/${ns}/httproutes/checkout`;
      const before = w.sandbox.faults.fired;
      w.sandbox.faults.inject({ method: 'PUT', path: route, respond: 500, times: Infinity });
      await w.setImage(ns, 'shop/checkout:2');
      await w.until(ns, 'the canary started', (s) => s.phase === 'Progressing' && s.currentStep === 0);
      const apps = w.sandbox.client(AppsV1Api);
      await waitFor(
        async () =>
          (await apps.readNamespacedDeployment({ namespace: ns, name: 'checkout' })).status?.readyReplicas === 1,
        10_000,
        'the canary pod ready',
      );
      await w.interval(SOAK_MS + INTERVAL_MS);
      const soaked = w.clock.now();
      await waitFor(() => w.sandbox.faults.fired > before, 10_000, 'a refused route write');
      expect((await w.status(ns)).effectiveWeight).toBe(0);

      // The route writes go through again: the soaked step gets its weight, and soaks from then.
      w.sandbox.faults.clear();
      const given = await w.advanceUntilStatus(ns, 'the weight given', (s) => s.effectiveWeight !== 0);
      expect({ step: given.currentStep, weight: given.effectiveWeight }).toEqual({ step: 0, weight: 0.5 });
      // Its soak starts again from the tick that gave the weight: no sooner than the soak it spent without traffic.
      expect(Date.parse(given.stepStartedAt ?? '')).toBeGreaterThanOrEqual(soaked);
    }, 60_000);
  },
);
