import type { V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  canaryCount,
  canaryScaledLast,
  canarySizing,
  inStep,
  primaryAutoscalerFrom,
  primaryAutoscalerSpec,
  servingCount,
  withFloor,
} from '../../src/pipeline/actuate/autoscaler.js';
import { floored } from '../../src/adapters/kube/client.js';

const user = (desiredReplicas?: number, maxReplicas = 10): V2HorizontalPodAutoscaler => ({
  metadata: { name: 'web', namespace: 'shop', labels: { team: 'a' } },
  spec: {
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
    minReplicas: 2,
    maxReplicas,
    metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }],
    behavior: { scaleDown: { stabilizationWindowSeconds: 60 } },
  },
  ...(desiredReplicas === undefined ? {} : { status: { desiredReplicas, currentReplicas: 6 } }),
});

describe("primary's HPA (docs/hpa.md)", () => {
  it.each([
    ['the serving count when the HPA asks for no more', 6, user(6), 6],
    ['what the HPA already asks for when that is more', 6, user(8), 8],
    ['never the HPA minimum when more serve', 6, user(2), 6],
    ['the serving count without an HPA status', 4, user(), 4],
    ['the serving count without an HPA', 3, undefined, 3],
  ])('a new primary starts at %s', (_what, serving, hpa, expected) => {
    expect(servingCount(serving, hpa)).toBe(expected);
  });

  it("is the user's spec aimed at primary, labelled and owned by the policy; the user's object is not changed", () => {
    const original = user(6);
    const before = structuredClone(original);
    const owner = { apiVersion: 'kubestead.io/v1alpha1', kind: 'RolloutPolicy', name: 'web', uid: 'u1' };
    const copy = primaryAutoscalerFrom(original, 'shop', owner);
    expect(copy.metadata).toEqual({
      name: 'web-primary',
      namespace: 'shop',
      labels: { 'app.kubernetes.io/managed-by': 'kubestead' },
      ownerReferences: [owner],
    });
    expect(copy.spec).toEqual({
      ...original.spec,
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web-primary' },
    });
    expect(original).toEqual(before);
  });

  it.each([
    ['the same spec', user(), true],
    ['another maximum', user(undefined, 12), false],
    ['other metrics', { ...user(), spec: { ...user().spec!, metrics: [] } }, false],
  ])("is in step with the user's HPA of %s: %s", (_what, next, expected) => {
    const copy = { metadata: { name: 'web-primary' }, spec: primaryAutoscalerSpec(user()) };
    expect(inStep(copy, next)).toBe(expected);
  });
});

describe('the canary count with a user HPA of 2–10 replicas (docs/hpa.md)', () => {
  const proportional = { minReplicas: 2, maxReplicas: 10, desiredReplicas: 0, byAutoscaler: false };
  const held = { ...proportional, desiredReplicas: 4 };
  const autoscaled = { ...proportional, byAutoscaler: true };
  it.each([
    ['without an HPA: the share', 1, 3, undefined, 1],
    ['proportional: the share', 3, 2, proportional, 3],
    ["proportional: never under the HPA's minimum (it would scale it right back)", 1, 1, proportional, 2],
    ["proportional: never over the HPA's maximum", 14, 10, proportional, 10],
    ['proportional: an ended canary stays at 0', 0, 3, proportional, 0],
    ['proportional: never under what the HPA asks for a running canary', 2, 4, held, 4],
    ['proportional: over it when the share is more', 5, 4, held, 5],
    ['proportional: a running canary is never lowered (the HPA scales it down)', 2, 3, proportional, 3],
    ['proportional: a canary at 0 starts at the share (the HPA asks nothing of it)', 2, 0, held, 2],
    ["autoscaled: a running canary keeps the HPA's count", 3, 5, autoscaled, 5],
    ['autoscaled: a canary at 0 starts at the share, within the bounds', 1, 0, autoscaled, 2],
    ['autoscaled: the end is 0', 0, 5, autoscaled, 0],
  ])('%s (share %i, live %i)', (_what, share, live, sizing, expected) => {
    expect(canaryCount(share, live, sizing)).toBe(expected);
  });

  it.each([
    ['no floor: the count wanted, lower or not', 2, 5, undefined, 2],
    ['live: a count the HPA raised since the tick read it is not lowered', 2, 5, 'live' as const, 5],
    ['live: a raise over the live count is written', 6, 5, 'live' as const, 6],
    ['live: a canary at 0 starts at the count wanted', 3, 0, 'live' as const, 3],
    ["running: a running canary keeps the HPA's count, lower", 6, 4, 'running' as const, 4],
    ["running: a running canary keeps the HPA's count, higher", 2, 5, 'running' as const, 5],
    ['running: a canary at 0 starts at the count wanted', 2, 0, 'running' as const, 2],
  ])('the write of the /scale, %s (wanted %i, live %i)', (_what, wanted, live, floor, expected) => {
    expect(floored(wanted, live, floor)).toBe(expected);
  });

  const scaledAt = (lastScaleTime?: string): V2HorizontalPodAutoscaler => ({
    ...user(),
    status: { desiredReplicas: 2, ...(lastScaleTime ? { lastScaleTime: new Date(lastScaleTime) } : {}) },
  });
  it.each([
    ["the user's HPA after primary's", scaledAt('2026-12-07T10:00:05Z'), scaledAt('2026-12-07T10:00:00Z'), true],
    ['both in the same second', scaledAt('2026-12-07T10:00:00Z'), scaledAt('2026-12-07T10:00:00Z'), true],
    [
      "primary's HPA after the user's: the share is the newer",
      scaledAt('2026-12-07T10:00:00Z'),
      scaledAt('2026-12-07T10:00:05Z'),
      false,
    ],
    ["primary's HPA never scaled", scaledAt('2026-12-07T10:00:00Z'), scaledAt(), true],
    ["the user's HPA never scaled", scaledAt(), scaledAt('2026-12-07T10:00:00Z'), false],
    ["no user's HPA", undefined, scaledAt('2026-12-07T10:00:00Z'), false],
  ])('the canary was scaled last by the HPA: %s', (_what, userHpa, primaryHpa, expected) => {
    expect(canaryScaledLast(userHpa, primaryHpa)).toBe(expected);
  });

  it.each([
    ['no HPA', undefined, undefined],
    ['bounds of the spec', user(7), { minReplicas: 2, maxReplicas: 10, desiredReplicas: 7, byAutoscaler: false }],
    [
      'minReplicas 1 when unset',
      { spec: { ...user().spec!, minReplicas: undefined } },
      { minReplicas: 1, maxReplicas: 10, desiredReplicas: 0, byAutoscaler: false },
    ],
  ])('sizing from %s', (_what, hpa, expected) => {
    expect(canarySizing(hpa, false)).toEqual(expected);
  });
});

describe("primary's HPA during a promotion (docs/hpa.md)", () => {
  it.each([
    ['no floor: the spec as it is', undefined, 2],
    ['a floor over the minimum raises it', 7, 7],
    ['a floor under the minimum keeps it', 1, 2],
    ['never over the maximum', 14, 10],
  ])('%s', (_what, floor, expected) => {
    expect(withFloor(primaryAutoscalerSpec(user()), floor).minReplicas).toBe(expected);
  });

  it("is in step with the user's HPA and a floor only when it carries the floor", () => {
    const copy = { metadata: { name: 'web-primary' }, spec: withFloor(primaryAutoscalerSpec(user()), 7) };
    expect([inStep(copy, user(), 7), inStep(copy, user())]).toEqual([true, false]);
  });
});
