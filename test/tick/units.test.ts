import { describe, expect, it } from 'vitest';
import { SimulatedCrash, throwingCrashHook } from '../support/crash.js';
import { stepElapsedSeconds } from '../../src/runtime/tick/gather.js';
import { readOverride } from '../../src/runtime/tick/overrides.js';
import { nearestCanaryCount, replicaShare } from '../../src/adapters/routers/replicas.js';
import { eventReason } from '../../src/pipeline/record/events.js';
import { fanOutRecorder, RecordRefusedError } from '../../src/pipeline/record/fanout.js';
import type { DecisionRecord } from '../../src/pipeline/record/recorder.js';
import { stepPlan } from '../../src/pipeline/facts/steps.js';
import type { PolicySpec } from '../../src/pipeline/policy/schema.js';

describe('the replica split', () => {
  it.each([
    [20, 4, 1],
    [25, 4, 1],
    [50, 4, 4],
    [5, 4, 1],
    [5, 40, 2],
    [10, 9, 1],
    [0.5, 199, 1],
    [75, 4, 12],
    [100, 4, 40],
    [33, 2, 1],
    [0, 4, 0],
    [30, 0, 1],
  ])('weight %d%% with %d stable replicas gives %d canary pods', (weight, stable, canary) => {
    expect(nearestCanaryCount(weight, stable)).toBe(canary);
  });

  it('the count is the nearest share: no other count is closer', () => {
    for (const stable of [1, 2, 3, 4, 7, 10, 33]) {
      for (const weight of [1, 5, 10, 20, 33, 50, 66, 90]) {
        const chosen = nearestCanaryCount(weight, stable);
        const distance = (c: number) => Math.abs(replicaShare(c, stable) - weight);
        for (let c = 1; c <= 10 * stable; c++) expect(distance(chosen)).toBeLessThanOrEqual(distance(c));
      }
    }
  });
});

describe('the soak clock', () => {
  const now = Date.parse('2026-11-30T10:10:00Z');
  it.each([
    [{ stepStartedAt: '2026-11-30T10:00:00Z' }, 600],
    [{ stepStartedAt: '2026-11-30T10:00:00Z', pausedSeconds: 120 }, 480],
    [{ stepStartedAt: '2026-11-30T10:00:00Z', pausedSeconds: 120, pausedSince: '2026-11-30T10:08:00Z' }, 360],
    [{}, 0],
  ])('status %j at 10:10 has soaked %ds', (status, seconds) => {
    expect(stepElapsedSeconds(status, now)).toBe(seconds);
  });

  it('a pause step holds the weight of the weight step before it', () => {
    const spec = {
      steps: [{ weight: 10 }, { pause: {} }, { weight: 50, soak: '1m' }, { pause: { duration: '10m' } }],
    } as PolicySpec;
    expect(stepPlan(spec, 0)).toEqual({ kind: 'weight', weight: 10, soakSeconds: 300 });
    expect(stepPlan(spec, 1)).toEqual({ kind: 'pause', weight: 10, soakSeconds: null });
    expect(stepPlan(spec, 2)).toEqual({ kind: 'weight', weight: 50, soakSeconds: 60 });
    expect(stepPlan(spec, 3)).toEqual({ kind: 'pause', weight: 50, soakSeconds: 600 });
  });
});

describe('the override annotation', () => {
  const withAnnotation = (value: string) => ({ metadata: { annotations: { 'kubestead.io/override': value } } });
  it('reads an override, and says why a bad one is none', () => {
    expect(readOverride({ metadata: {} })).toEqual({ kind: 'none' });
    expect(readOverride(withAnnotation('{"action":"pause","actor":"alice","time":"2026-11-30T10:00:00Z"}'))).toEqual({
      kind: 'override',
      override: { action: 'pause', actor: 'alice', time: '2026-11-30T10:00:00Z' },
    });
    expect(readOverride(withAnnotation('promote'))).toEqual({
      kind: 'invalid',
      message: 'annotation kubestead.io/override is not JSON',
    });
    const wrong = readOverride(withAnnotation('{"action":"skip","actor":"alice","time":"2026-11-30T10:00:00Z"}'));
    expect(wrong.kind === 'invalid' && wrong.message).toMatch(/^annotation kubestead.io\/override: action: /);
  });
});

describe('the test crash hook', () => {
  it('throws once, at the nth time the tick reaches its boundary', () => {
    const hook = throwingCrashHook('after-actuate', 2);
    expect(() => hook('after-actuate')).not.toThrow();
    expect(() => hook('after-status')).not.toThrow();
    expect(() => hook('after-actuate')).toThrow(SimulatedCrash);
    expect(() => hook('after-actuate')).not.toThrow();
  });
});

describe('recorders', () => {
  const record: DecisionRecord = {
    kind: 'decision',
    time: '2026-11-30T10:00:00Z',
    policy: { namespace: 'shop', name: 'checkout', uid: 'u', generation: 1 },
    decision: {
      action: 'rollback',
      reasons: [{ rule: 'check-breach', check: 'errors', message: 'errors = 0.4 is above max 0.05' }],
      step: 0,
      nextStep: null,
    },
    message: 'rolled back: errors = 0.4 is above max 0.05',
    controller: 'test',
  };

  it('a fan-out stores through every recorder, merges receipts, and refuses when one refuses', async () => {
    const seen: string[] = [];
    const ok = {
      record: (e: DecisionRecord) => {
        seen.push(`a:${e.kind}`);
        return Promise.resolve({ seq: 1 });
      },
    };
    const audit = {
      record: (e: DecisionRecord) => {
        seen.push(`b:${e.kind}`);
        return Promise.resolve({ head: 'h', seq: 7 });
      },
    };
    expect(await fanOutRecorder([ok, audit]).record(record)).toEqual({ head: 'h', seq: 7 });
    expect(seen).toEqual(['a:decision', 'b:decision']);
    const refusing = { record: () => Promise.reject(new Error('disk full')) };
    const refused = await fanOutRecorder([ok, refusing], (i) => ['events', 'audit'][i] ?? '?')
      .record(record)
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RecordRefusedError);
    expect((refused as Error).message).toBe('record refused: audit: disk full');
    // In order: a recorder after a refusing one is not told (no Event for an entry the audit chain refused).
    seen.length = 0;
    await fanOutRecorder([refusing, ok])
      .record(record)
      .catch(() => undefined);
    expect(seen).toEqual([]);
    // A repeat the store already held is announced with the stored message, not the repeat's values.
    const told: string[] = [];
    const stored = {
      record: () => Promise.resolve({ deduped: true, storedMessage: 'rolled back: errors = 0.3 is above max 0.05' }),
    };
    const events = {
      record: (e: DecisionRecord) => {
        told.push(e.message);
        return Promise.resolve({});
      },
    };
    await fanOutRecorder([stored, events]).record(record);
    expect(told).toEqual(['rolled back: errors = 0.3 is above max 0.05']);
  });

  it.each([
    ['decision', 'rollback', undefined, 'RolledBack'],
    ['decision', 'advance', undefined, 'Advanced'],
    ['shadow', 'rollback', undefined, 'WouldRollBack'],
    ['override', 'pause', undefined, 'Overridden'],
    ['event', 'hold', 'canary-started', 'CanaryStarted'],
    ['event', 'hold', 'handed-back', 'HandedBack'],
  ] as const)('a %s record of %s (%s) has the Event reason %s', (kind, action, rule, reason) => {
    const reasons = rule ? [{ rule, message: 'm' }] : record.decision.reasons;
    expect(eventReason({ ...record, kind, decision: { ...record.decision, action, reasons } })).toBe(reason);
  });
});
