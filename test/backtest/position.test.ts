import { describe, expect, it } from 'vitest';
import { BacktestRangeError, positionAt, tickRange } from '../../src/tools/backtest/simulate.js';
import { rolloutPolicySchema } from '../../src/pipeline/policy/schema.js';

/** Where a rollout started before the window stands at its first tick: step timing alone, ticks every 30s. */
const policy = rolloutPolicySchema.parse({
  apiVersion: 'kubestead.io/v1alpha1',
  kind: 'RolloutPolicy',
  metadata: { name: 'web', namespace: 'shop' },
  spec: {
    targetRef: { kind: 'Deployment', name: 'web' },
    interval: '30s',
    steps: [{ weight: 10, soak: '100s' }, { weight: 50, soak: '5m' }, { pause: {} }, { weight: 80 }],
    providers: {},
    checks: [],
  },
});

const S = Date.parse('2026-11-02T10:00:00Z');
const s = (seconds: number) => S + seconds * 1000;

describe('tickRange: one tick every interval from the rollout start, those in the window', () => {
  it.each([
    ['from the start', s(0), s(300), { startMs: s(0), endMs: s(300), stepMs: 30_000 }],
    ['from mid-interval: the next tick', s(45), s(100), { startMs: s(60), endMs: s(90), stepMs: 30_000 }],
    ['to mid-interval: the tick before', s(0), s(59), { startMs: s(0), endMs: s(30), stepMs: 30_000 }],
  ])('%s', (_name, fromMs, endMs, expected) => {
    expect(tickRange(policy, { startMs: S, fromMs, endMs })).toEqual(expected);
  });

  it('a window without a tick, or with too many, is refused', () => {
    expect(() => tickRange(policy, { startMs: S, fromMs: s(1), endMs: s(20) })).toThrow(BacktestRangeError);
    expect(() => tickRange(policy, { startMs: S, fromMs: S, endMs: s(30 * 100_001) })).toThrow(/at most 100000/);
  });
});

describe('positionAt: a rollout started before the window', () => {
  it.each([
    // step 1 soaks 100s: it advances at the first tick after, 120s
    ['still in step 1', s(90), 0, s(0)],
    ['the tick that advances is in the window', s(120), 0, s(0)],
    ['step 2, entered at 120s', s(150), 1, s(120)],
    // step 2 soaks 300s from 120s: advances at 420s into the pause step
    ['the pause step, entered at 420s', s(450), 2, s(420)],
  ])('%s', (_name, firstTick, step, stepStartedMs) => {
    const status = positionAt(policy, S, firstTick);
    expect([status.currentStep, Date.parse(status.stepStartedAt!), status.phase]).toEqual([
      step,
      stepStartedMs,
      'Progressing',
    ]);
  });

  it('a rollout waiting for a person stays at the pause step: its first tick pauses', () => {
    expect(positionAt(policy, S, s(3600)).currentStep).toBe(2);
  });
});
