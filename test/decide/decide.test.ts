import { describe, expect, it } from 'vitest';
import { decide } from '../../src/pipeline/decide/decide.js';
import { SnapshotError, type FactSnapshot } from '../../src/pipeline/facts/snapshot.js';
import { defaultSnapshot, mergeSnapshot } from '../../src/tools/policytest/defaults.js';
import { compiledFixture, fixtureJson } from '../helpers.js';

const checkout = compiledFixture('policies/checkout.yaml');
const breach = () => fixtureJson<FactSnapshot>('snapshots/checkout-breach.json');
const facts = (partial: Record<string, unknown>, step = 0) =>
  mergeSnapshot(defaultSnapshot(checkout.spec, step), partial);

describe('decide', () => {
  it('gives exactly the Decision of DESIGN.md §5 for a breach', async () => {
    const decision = await decide(checkout, breach());
    expect(decision.action).toBe('rollback');
    expect(decision.step).toBe(0);
    expect(decision.nextStep).toBeNull();
    expect(decision.reasons[0]).toEqual({
      rule: 'check-breach',
      check: 'error-rate',
      message: 'error-rate = 0.034 is above max 0.01',
    });
    expect(Object.keys(decision)).toEqual(['action', 'reasons', 'step', 'nextStep']);
  });

  it.each([
    ['abort override', { override: 'abort' }, 0, 'rollback', 'override-abort'],
    ['a breach of min', { checks: { apdex: { value: 0.5 } } }, 0, 'rollback', 'check-breach'],
    ['restarts', { rollout: { canary: { restarts: 4 } } }, 0, 'rollback', 'pod-health'],
    [
      'an unavailable check',
      { checks: { apdex: { status: 'unavailable', error: 'timeout after 5s' } } },
      0,
      'rollback',
      'metric-unavailable',
    ],
    [
      'a custom rule',
      { derived: { errorBudgetBurn: 6 }, rollout: { stepElapsedSeconds: 300 } },
      0,
      'hold',
      'budget-burn-hold',
    ],
    ['a pause override', { override: 'pause' }, 0, 'pause', 'manual-pause'],
    ['a pause step', {}, 2, 'pause', 'pause-step'],
    ['a promote override', { override: 'promote' }, 0, 'promote', 'override-promote'],
    ['the soak', { rollout: { stepElapsedSeconds: 1 } }, 0, 'hold', 'soak'],
    ['the soak elapsed', { rollout: { stepElapsedSeconds: 300 } }, 0, 'advance', 'advance'],
    ['the last step elapsed', { rollout: { stepElapsedSeconds: 300 } }, 3, 'promote', 'advance'],
  ])('%s → %s', async (_, partial, step, action, rule) => {
    const decision = await decide(checkout, facts(partial, step));
    expect(decision.action).toBe(action);
    expect(decision.reasons[0]?.rule).toBe(rule);
  });

  // The canary's readiness is a rule like any other: offline tests, eval and the controller agree.
  const notReady = { canary: { desiredReplicas: 2, readyReplicas: 1 } };
  it.each([
    [
      'soak over, checks in bounds: the next step waits',
      { rollout: { ...notReady, stepElapsedSeconds: 300 } },
      0,
      'hold',
      'canary-not-ready',
    ],
    [
      'the last step over: promotion waits',
      { rollout: { ...notReady, stepElapsedSeconds: 300 } },
      3,
      'hold',
      'canary-not-ready',
    ],
    ['a resume on a pause step waits too', { rollout: notReady, override: 'resume' }, 2, 'hold', 'canary-not-ready'],
    ['still soaking: the soak is the reason', { rollout: { ...notReady, stepElapsedSeconds: 1 } }, 0, 'hold', 'soak'],
    [
      'a breach still rolls back',
      { rollout: notReady, checks: { 'error-rate': { value: 0.5 } } },
      0,
      'rollback',
      'check-breach',
    ],
    ['a promote override still promotes', { rollout: notReady, override: 'promote' }, 0, 'promote', 'override-promote'],
    [
      'every pod ready: it advances',
      { rollout: { canary: { desiredReplicas: 2, readyReplicas: 2 }, stepElapsedSeconds: 300 } },
      0,
      'advance',
      'advance',
    ],
  ])('a canary not fully ready, %s', async (_, partial, step, action, rule) => {
    const decision = await decide(checkout, facts(partial, step));
    expect(decision.action).toBe(action);
    expect(decision.reasons[0]?.rule).toBe(rule);
  });

  it('names the readiness in the reason', async () => {
    const decision = await decide(checkout, facts({ rollout: { ...notReady, stepElapsedSeconds: 300 } }));
    expect(decision).toMatchObject({ action: 'hold', step: 0, nextStep: null });
    expect(decision.reasons[0]).toEqual({
      rule: 'canary-not-ready',
      message: 'canary 1/2 ready: the next step waits until every canary pod is ready',
    });
  });

  it('a manual pause step lists no advance, however long it has waited', async () => {
    const decision = await decide(checkout, facts({ rollout: { stepElapsedSeconds: 86_400 } }, 2));
    expect(decision.action).toBe('pause');
    expect(decision.reasons.map((r) => r.rule)).toEqual(['pause-step']);
    expect(decision.reasons[0]?.message).toBe(
      'step 3/4 is a pause step, paused 86400s of ∞s: waiting for resume or promote',
    );
  });

  it('advance names the next step; nothing else does', async () => {
    expect((await decide(checkout, facts({ rollout: { stepElapsedSeconds: 300 } }))).nextStep).toBe(1);
    expect((await decide(checkout, facts({ override: 'resume' }, 2))).nextStep).toBe(3);
    expect((await decide(checkout, facts({ rollout: { stepElapsedSeconds: 300 } }, 3))).nextStep).toBeNull();
  });

  it('lists every reason that applied, highest precedence first', async () => {
    const decision = await decide(
      checkout,
      facts({
        override: 'promote',
        checks: { 'error-rate': { value: 0.5 }, apdex: { status: 'unavailable', error: 'HTTP 503 after 2 attempts' } },
      }),
    );
    expect(decision.action).toBe('rollback');
    expect(decision.reasons.map((r) => r.rule)).toEqual([
      'check-breach',
      'metric-unavailable',
      'budget-burn-hold',
      'override-promote',
      'soak',
    ]);
    expect(decision.reasons[1]?.message).toBe(
      'apdex is unavailable (HTTP 503 after 2 attempts); onMetricUnavailable: rollback',
    );
  });

  it('computes derived facts that the snapshot lacks', async () => {
    const decision = await decide(
      checkout,
      facts({ checks: { 'error-rate': { value: 0.0099 } }, rollout: { stepElapsedSeconds: 300 } }),
    );
    expect(decision.action).toBe('hold');
    expect(decision.reasons[0]).toEqual({
      rule: 'budget-burn-hold',
      message: 'custom rule budget-burn-hold matched: hold',
    });
  });

  it('is deterministic: the same snapshot gives the same decision', async () => {
    const snapshot = breach();
    const first = await decide(checkout, snapshot);
    expect(await decide(checkout, structuredClone(snapshot))).toEqual(first);
    expect(snapshot).toEqual(breach());
  });

  it.each([
    [
      'a NaN value',
      (s: FactSnapshot) => {
        s.checks['error-rate']!.value = Number.NaN;
      },
      'checks.error-rate.value',
    ],
    [
      'an infinite value',
      (s: FactSnapshot) => {
        s.checks.apdex!.value = Number.POSITIVE_INFINITY;
      },
      'checks.apdex.value',
    ],
    [
      'an ok check with no value',
      (s: FactSnapshot) => {
        s.checks.apdex!.value = null;
      },
      'checks.apdex.value',
    ],
    [
      'a missing field',
      (s: FactSnapshot) => {
        delete (s.rollout as Partial<FactSnapshot['rollout']>).stepElapsedSeconds;
      },
      'rollout.stepElapsedSeconds',
    ],
    [
      'a wrong version',
      (s: FactSnapshot) => {
        (s as { version: number }).version = 2;
      },
      'version',
    ],
    [
      'an unknown override',
      (s: FactSnapshot) => {
        (s as { override: string }).override = 'skip';
      },
      'override',
    ],
    [
      'a step past the end',
      (s: FactSnapshot) => {
        s.rollout.step = 4;
      },
      'rollout.step',
    ],
    [
      'a weight step with no soak',
      (s: FactSnapshot) => {
        s.rollout.soakSeconds = null;
      },
      'rollout.soakSeconds',
    ],
  ])('rejects a snapshot with %s, naming the path', async (_, mutate, path) => {
    const snapshot = breach();
    mutate(snapshot);
    const error = await decide(checkout, snapshot).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SnapshotError);
    expect((error as SnapshotError).message).toContain(`${path}: `);
  });
});

describe('decide: every reason of one level', () => {
  it('lists every breached check (max bounds first, then min bounds) and every unavailable one', async () => {
    const web = compiledFixture('policies/web-nginx.yaml');
    const decision = await decide(
      web,
      mergeSnapshot(defaultSnapshot(web.spec, 0), {
        checks: { throughput: { value: 0 }, 'error-pct': { value: 2 } },
      }),
    );
    expect(decision.reasons.filter((r) => r.rule === 'check-breach')).toEqual([
      { rule: 'check-breach', check: 'error-pct', message: 'error-pct = 2 is above max 1.5' },
      { rule: 'check-breach', check: 'throughput', message: 'throughput = 0 is below min 1' },
    ]);
    const unavailable = await decide(
      web,
      mergeSnapshot(defaultSnapshot(web.spec, 0), { checks: { throughput: null, 'error-pct': null } }),
    );
    expect(unavailable.reasons.filter((r) => r.rule === 'metric-unavailable').map((r) => r.check)).toEqual([
      'throughput',
      'error-pct',
    ]);
  });
});
