import { describe, expect, it } from 'vitest';
import {
  newMemory,
  normalizeReplicas,
  resourceReplicas,
  scaleDownRules,
  scaleUpRules,
  storeScaleEvent,
  type NormalizeInput,
  type PodSample,
} from '../src/hpa-algorithm.js';

/** The HPA controller's arithmetic, case by case against what Kubernetes' controller computes. */

const pod = (name: string, usageMilli: number | undefined, extra: Partial<PodSample> = {}): PodSample => ({
  name,
  ignored: false,
  unready: false,
  requestMilli: 100,
  usageMilli,
  ...extra,
});
const ready = (n: number, usageMilli: number): PodSample[] =>
  Array.from({ length: n }, (_, i) => pod(`p${i}`, usageMilli));
const unready = (n: number): PodSample[] =>
  Array.from({ length: n }, (_, i) => pod(`u${i}`, undefined, { unready: true }));

describe('replicas from CPU utilization (GetResourceReplicas)', () => {
  it.each([
    ['4 pods at 100 % of a 50 % target double', 4, 50, ready(4, 100), 8, 100],
    ['4 pods at 54 % of 50 %: within the 10 % tolerance', 4, 50, ready(4, 54), 4, 54],
    ['4 pods at 56 % of 50 %: above the tolerance', 4, 50, ready(4, 56), 5, 56],
    ['4 pods at 44 % of 50 %: below the tolerance', 4, 50, ready(4, 44), 4, 44],
    ['4 pods at 25 % of 50 % halve', 4, 50, ready(4, 25), 2, 25],
    ['8 pods at 50 % stay', 8, 50, ready(8, 50), 8, 50],
    // 4 ready at 100 %, 4 unready counted as 0 %: 50 %, the target: no change
    ['unready pods count as 0 % on a scale-up', 8, 50, [...ready(4, 100), ...unready(4)], 8, 100],
    // 4 ready at 150 %, 2 unready at 0 %: 100 % over 6 pods: 12
    ['unready pods dilute a scale-up', 6, 50, [...ready(4, 150), ...unready(2)], 12, 150],
    // 2 ready at 20 %: a scale-down; unready pods are left out of it
    ['unready pods are left out of a scale-down', 4, 50, [...ready(2, 20), ...unready(2)], 1, 20],
    [
      'a deleted pod is ignored',
      2,
      50,
      [...ready(2, 100), pod('gone', undefined, { ignored: true, requestMilli: undefined })],
      4,
      100,
    ],
    // 2 pods at 20 % with one missing metric, counted as 100 % on a scale-down: 60 % over 3 ⇒ within tolerance? no: 1.2 → 4 > 3 turns the direction: stay
    [
      'a missing metric must not turn a scale-down into a scale-up',
      3,
      50,
      [...ready(2, 20), pod('m', undefined)],
      3,
      20,
    ],
    // 2 pods at 150 % with one missing metric, counted as 0 % on a scale-up: 100 % over 3 pods ⇒ 6
    ['a missing metric counts as 0 % on a scale-up', 3, 50, [...ready(2, 150), pod('m', undefined)], 6, 150],
  ] as const)('%s', (_what, current, target, pods, replicas, utilization) => {
    const result = resourceReplicas(current, target, [...pods]);
    expect(result.replicas).toBe(replicas);
    expect(result.utilization).toBe(utilization);
  });

  it('reports the average usage per pod in millicores', () => {
    expect(resourceReplicas(3, 50, ready(3, 70)).rawMilli).toBe(70);
  });

  it.each([
    ['no pods', [], 'no pods returned by selector while calculating replica count'],
    ['only unready pods', unready(2), 'did not receive metrics for targeted pods (pods might be unready)'],
    ['a pod without a CPU request', [pod('a', 50, { requestMilli: undefined })], 'missing request for cpu'],
  ] as const)('fails on %s', (_what, pods, message) => {
    expect(() => resourceReplicas(2, 50, [...pods])).toThrow(message);
  });
});

const S = 1000;
const noBehavior = (current: number, desired: number, now: number): NormalizeInput => ({
  current,
  desired,
  min: 1,
  max: 10,
  behavior: undefined,
  now,
});

describe('stabilization and limits without spec.behavior (normalizeDesiredReplicas)', () => {
  it('scales up at once, at most to max(2 × current, 4)', () => {
    const memory = newMemory(2, 0);
    const out = normalizeReplicas({ ...noBehavior(2, 9, 15 * S) }, memory);
    expect(out.replicas).toBe(4);
    expect(out.scalingLimited).toEqual({
      status: 'True',
      reason: 'ScaleUpLimit',
      message: 'the desired replica count is increasing faster than the maximum scale rate',
    });
    expect(out.ableToScale.reason).toBe('ReadyForNewScale');
  });

  it('keeps the highest recommendation of the last 300 s before scaling down', () => {
    const memory = newMemory(8, 0);
    const early = normalizeReplicas(noBehavior(8, 2, 15 * S), memory);
    expect(early.replicas).toBe(8);
    expect(early.ableToScale).toEqual({
      status: 'True',
      reason: 'ScaleDownStabilized',
      message: 'recent recommendations were higher than current one, applying the highest recent recommendation',
    });
    expect(normalizeReplicas(noBehavior(8, 2, 299 * S), memory).replicas).toBe(8);
    // the initial recommendation (8, at 0) is now older than the window; 2 was recommended since
    const late = normalizeReplicas(noBehavior(8, 2, 301 * S), memory);
    expect(late.replicas).toBe(2);
    expect(late.scalingLimited.reason).toBe('DesiredWithinRange');
  });

  it('clamps to minReplicas and maxReplicas with their reasons', () => {
    // after the 300 s window, nothing stabilizes the recommendation of 0
    const low = normalizeReplicas(noBehavior(2, 0, 400 * S), newMemory(2, 0));
    expect(low.replicas).toBe(1);
    expect(low.scalingLimited).toEqual({
      status: 'True',
      reason: 'TooFewReplicas',
      message: 'the desired replica count is less than the minimum replica count',
    });
    const high = normalizeReplicas({ ...noBehavior(8, 30, S), max: 10 }, newMemory(8, 0));
    expect(high.replicas).toBe(10);
    expect(high.scalingLimited.reason).toBe('TooManyReplicas');
  });
});

describe('spec.behavior (normalizeDesiredReplicasWithBehaviors)', () => {
  const defaults = { scaleUp: scaleUpRules(), scaleDown: scaleDownRules() };
  const withBehavior = (current: number, desired: number, now: number, behavior = defaults): NormalizeInput => ({
    ...noBehavior(current, desired, now),
    max: 100,
    behavior,
  });

  it('has the real defaults: up 0 s, Max of 4 pods or 100 % per 15 s; down 300 s, 100 % per 15 s', () => {
    expect(defaults).toEqual({
      scaleUp: {
        stabilizationWindowSeconds: 0,
        selectPolicy: 'Max',
        policies: [
          { type: 'Pods', value: 4, periodSeconds: 15 },
          { type: 'Percent', value: 100, periodSeconds: 15 },
        ],
      },
      scaleDown: {
        stabilizationWindowSeconds: 300,
        selectPolicy: 'Max',
        policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }],
      },
    });
  });

  it('rate-limits a scale-up by its policies, counting the period’s earlier scale-ups', () => {
    const memory = newMemory(10, 0);
    const first = normalizeReplicas(withBehavior(10, 50, 15 * S), memory);
    expect(first.replicas).toBe(20);
    expect(first.scalingLimited.reason).toBe('ScaleUpLimit');
    storeScaleEvent(memory, defaults, { from: 10, to: 20, now: 15 * S });
    // 10 s later, within the 15 s period: the period started at 10, so still at most 20
    expect(normalizeReplicas(withBehavior(20, 50, 25 * S), memory).replicas).toBe(20);
    // after the period: 20 → 40
    expect(normalizeReplicas(withBehavior(20, 50, 31 * S), memory).replicas).toBe(40);
  });

  it('Pods policy with selectPolicy Min picks the smaller change', () => {
    const behavior = {
      scaleUp: scaleUpRules({ selectPolicy: 'Min' }),
      scaleDown: scaleDownRules(),
    };
    expect(normalizeReplicas(withBehavior(10, 50, 15 * S, behavior), newMemory(10, 0)).replicas).toBe(14);
  });

  it('selectPolicy Disabled keeps the size', () => {
    const behavior = { scaleUp: scaleUpRules(), scaleDown: scaleDownRules({ selectPolicy: 'Disabled' }) };
    const memory = newMemory(6, 0);
    const out = normalizeReplicas(withBehavior(6, 2, 400 * S, behavior), memory);
    expect(out.replicas).toBe(6);
    expect(out.scalingLimited).toEqual({
      status: 'True',
      reason: 'ScaleDownLimit',
      message: 'the desired replica count is decreasing faster than the maximum scale rate',
    });
  });

  it('a scale-up window keeps the lowest recent recommendation', () => {
    const behavior = { scaleUp: scaleUpRules({ stabilizationWindowSeconds: 60 }), scaleDown: scaleDownRules() };
    const memory = newMemory(2, 0);
    const out = normalizeReplicas(withBehavior(2, 6, 30 * S, behavior), memory);
    expect(out.replicas).toBe(2);
    expect(out.ableToScale.reason).toBe('ScaleUpStabilized');
    expect(normalizeReplicas(withBehavior(2, 6, 61 * S, behavior), memory).replicas).toBe(6);
  });

  it('a scale-down by a Pods policy of 1 per 60 s goes one pod at a time', () => {
    const behavior = {
      scaleUp: scaleUpRules(),
      scaleDown: scaleDownRules({
        stabilizationWindowSeconds: 0,
        policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }],
      }),
    };
    const memory = newMemory(5, 0);
    expect(normalizeReplicas(withBehavior(5, 1, 15 * S, behavior), memory).replicas).toBe(4);
    storeScaleEvent(memory, behavior, { from: 5, to: 4, now: 15 * S });
    expect(normalizeReplicas(withBehavior(4, 1, 30 * S, behavior), memory).replicas).toBe(4);
    expect(normalizeReplicas(withBehavior(4, 1, 76 * S, behavior), memory).replicas).toBe(3);
  });
});
