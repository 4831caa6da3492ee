import { describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../src/pipeline/record/audit/entry.js';
import type { Logged } from '../support/faults.js';
import { expectDecisionBeforeEachActuation } from '../support/invariant.js';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');

/** An entry recorded `ms` after T0: `advance 0`, `event adopted`, … (`late` when marked so). */
function entry(seq: number, what: string, ms: number, late = false): AuditEntry {
  const [action, step] = what.split(' ');
  const decision = action === 'event' ? null : { action, step: Number(step), nextStep: null, reasons: [] };
  return {
    seq,
    kind: action === 'event' ? 'event' : 'decision',
    recordedAt: new Date(T0 + ms).toISOString(),
    decision,
    ...(late ? { late: true } : {}),
  } as unknown as AuditEntry;
}

const write = (path: string, ms: number): Logged => ({
  time: T0 + ms,
  method: 'PATCH',
  path: `/apis/apps/v1/namespaces/ns/deployments/${path}`,
  query: '',
  code: 200,
  fault: false,
});

describe('invariant I: every actuation has exactly one decision entry before it', () => {
  const adopted = [entry(0, 'event adopted', 0), write('checkout/scale', 10)];

  it('holds when each decision is recorded before its own actuation (a late entry is the documented gap)', () => {
    const entries = [entry(0, 'event adopted', 0), entry(1, 'advance 0', 100), entry(2, 'promote 1', 200)];
    const requests = [adopted[1] as Logged, write('checkout/scale', 150), write('checkout-primary', 250)];
    expect(() => expectDecisionBeforeEachActuation(entries, requests)).not.toThrow();
    const withLate = [...entries, entry(3, 'rollback 1', 320, true)];
    expect(() =>
      expectDecisionBeforeEachActuation(withLate, [...requests, write('checkout/scale', 300)]),
    ).not.toThrow();
  });

  it.each<[string, AuditEntry[], Logged[], RegExp]>([
    [
      'an actuation before any entry',
      [entry(0, 'event adopted', 100), entry(1, 'advance 0', 200)],
      [write('checkout/scale', 90), write('checkout/scale', 250)],
      /actuations before any entry: PATCH \/apis\/apps\/v1\/namespaces\/ns\/deployments\/checkout\/scale:/,
    ],
    [
      'a decision actuated only after the next was recorded (two entries before one actuation)',
      [entry(0, 'event adopted', 0), entry(1, 'advance 0', 100), entry(2, 'promote 1', 200)],
      [adopted[1] as Logged, write('checkout/scale', 250), write('checkout-primary', 260)],
      /seq 1 advance 0/,
    ],
    [
      'a decision recorded after its actuation',
      [entry(0, 'event adopted', 0), entry(1, 'advance 0', 100), entry(2, 'promote 1', 200)],
      [adopted[1] as Logged, write('checkout/scale', 150), write('checkout-primary', 190)],
      /seq 2 promote 1/,
    ],
  ])('fails on %s', (_, entries, requests, message) => {
    expect(() => expectDecisionBeforeEachActuation(entries, requests)).toThrow(message);
  });
});
