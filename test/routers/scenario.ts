import { CoreV1Api } from '@kubernetes/client-node';
import { expect } from 'vitest';
import type { TrafficRouter } from '../../src/adapters/routers/router.js';
import { integerSplit } from '../../src/pipeline/policy/weights.js';
import { createWeightedRouter, type WeightedKind } from '../../src/adapters/routers/weighted.js';
import type { Sandbox } from '@kubestead/sandbox';
import { failureOf } from '../support/sandbox.js';
import { createApp, createPolicy, promotePrimary, startCanary, trackSelectors, type PolicyWorld } from './support.js';

/** What a router test tells the shared scenarios about its router. */
export interface RouterUnderTest {
  kind: WeightedKind;
  trafficRouting: Record<string, unknown>;
  /** The user's router objects, as the router's own docs show them. */
  createUserObjects(sandbox: Sandbox, namespace: string): Promise<void>;
  /** The canary and primary integers the live objects hold (canary 0 when there is no canary object). */
  liveSplit(sandbox: Sandbox, namespace: string): Promise<{ canary: number; primary: number }>;
  /** Someone edits the weights by hand. */
  handEdit(sandbox: Sandbox, namespace: string, canary: number, primary: number): Promise<void>;
  /** Kubestead's two Services are used (Istio subsets do without). */
  usesServices?: boolean;
}

export interface Started extends PolicyWorld {
  router: TrafficRouter;
  hash: string;
}

/** The app, the policy and the user's objects; prepare() passes; a canary has started. */
export async function startScenario(sandbox: Sandbox, rut: RouterUnderTest, namespace: string): Promise<Started> {
  await createApp(sandbox, namespace);
  const world = await createPolicy(sandbox, namespace, rut.trafficRouting);
  const router = createWeightedRouter(rut.kind, world.ctx);
  await rut.createUserObjects(sandbox, namespace);
  expect(await router.prepare()).toBeNull();
  const hash = await startCanary(sandbox, namespace, 'shop/checkout:2');
  expect(await router.prepare()).toBeNull();
  if (rut.usesServices !== false) {
    expect(await trackSelectors(sandbox, namespace)).toEqual({
      primary: { app: 'checkout', 'kubestead.io/role': 'primary' },
      canary: { app: 'checkout', 'pod-template-hash': hash },
    });
  }
  return { ...world, router, hash };
}

/** Steps through `weights` as the actuator does: write, then read back the exact share and the live integers. */
export async function stepThrough(
  sandbox: Sandbox,
  rut: RouterUnderTest,
  started: Started,
  namespace: string,
  weights: number[],
): Promise<void> {
  for (const weight of weights) {
    await started.router.setWeight(weight);
    expect((await started.router.getWeight()).weight).toBe(weight);
    const { canary, primary } = integerSplit(weight)!;
    expect(await rut.liveSplit(sandbox, namespace)).toEqual({ canary, primary });
  }
}

/** Promotion: primary runs the new template, then traffic shifts back to it, then finalize. */
export async function promote(sandbox: Sandbox, started: Started, namespace: string): Promise<void> {
  await promotePrimary(sandbox, namespace, 'shop/checkout:2');
  await started.router.setWeight(0);
  expect((await started.router.getWeight()).weight).toBe(0);
  await started.router.finalize();
  expect((await started.router.getWeight()).weight).toBe(0);
}

/** Rollback: weight 0 read back before the canary would be scaled down, then finalize. */
export async function rollBack(started: Started): Promise<void> {
  await started.router.setWeight(0);
  expect((await started.router.getWeight()).weight).toBe(0);
  await started.router.finalize();
  expect((await started.router.getWeight()).weight).toBe(0);
}

/** A hand edit is seen by getWeight (with the integers in its detail) and undone by setWeight. */
export async function driftIsCorrected(
  sandbox: Sandbox,
  rut: RouterUnderTest,
  started: Started,
  namespace: string,
): Promise<void> {
  await started.router.setWeight(0.5);
  await rut.handEdit(sandbox, namespace, 30, 70);
  const drifted = await started.router.getWeight();
  expect(drifted.weight).toBe(30);
  expect(drifted.detail).toContain('30/100 (30%)');
  await started.router.setWeight(0.5);
  expect((await started.router.getWeight()).weight).toBe(0.5);
  expect(await rut.liveSplit(sandbox, namespace)).toEqual({ canary: 5, primary: 995 });
}

/** Kubestead's Services carry its label and the policy as owner, with the user's ports. */
export async function expectOwnedServices(sandbox: Sandbox, started: Started, namespace: string): Promise<void> {
  const core = sandbox.client(CoreV1Api);
  for (const name of ['checkout-primary', 'checkout-canary']) {
    const service = await core.readNamespacedService({ name, namespace });
    expect(service.metadata?.labels).toEqual({ 'app.kubernetes.io/managed-by': 'kubestead' });
    expect(service.metadata?.ownerReferences).toEqual([started.owner]);
    expect(service.spec?.ports).toEqual([{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }]);
  }
  const user = await core.readNamespacedService({ name: 'checkout', namespace });
  expect(user.metadata?.labels).toBeUndefined();
  expect(user.spec?.selector).toEqual({ app: 'checkout' });
}

/** release(): Kubestead's Services are gone (the user's stays); the caller checks the user's objects. */
export async function releaseMidway(
  sandbox: Sandbox,
  rut: RouterUnderTest,
  started: Started,
  namespace: string,
): Promise<void> {
  await stepThrough(sandbox, rut, started, namespace, [0.5]);
  await started.router.release!();
  const core = sandbox.client(CoreV1Api);
  for (const name of ['checkout-primary', 'checkout-canary']) {
    expect((await failureOf(core.readNamespacedService({ name, namespace }))).code).toBe(404);
  }
  expect((await core.readNamespacedService({ name: 'checkout', namespace })).spec?.selector).toEqual({
    app: 'checkout',
  });
}

/**
 * A new template while the canary has traffic: the canary track stays on its ReplicaSet until
 * the weight is back at 0; then prepare() moves it to the new one.
 */
export async function newTemplateMidStep(
  sandbox: Sandbox,
  started: Started,
  namespace: string,
  pinned: () => Promise<unknown>,
): Promise<void> {
  await started.router.setWeight(0.5);
  const next = await startCanary(sandbox, namespace, 'shop/checkout:3');
  expect(await started.router.prepare()).toBeNull();
  expect(await pinned()).toBe(started.hash);
  await started.router.setWeight(0);
  expect(await started.router.prepare()).toBeNull();
  expect(await pinned()).toBe(next);
}
