import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CompiledPolicy } from '../../src/pipeline/compile/compile.js';
import { decide } from '../../src/pipeline/decide/decide.js';
import type { FactSnapshot } from '../../src/pipeline/facts/snapshot.js';
import { compiledFixture } from '../helpers.js';
import { snapshotFor } from '../support/snapshots.js';

const POLICIES = [
  'policies/checkout.yaml',
  'policies/payments-istio.yaml',
  'policies/web-nginx.yaml',
  'policies/cart-smi.yaml',
];

function outOfBoundsOrUnavailable(compiled: CompiledPolicy, snapshot: FactSnapshot): boolean {
  return compiled.spec.checks.some((check) => {
    const m = snapshot.checks[check.name];
    if (!m || m.status !== 'ok' || m.value === null) return true;
    return (check.max !== undefined && m.value > check.max) || (check.min !== undefined && m.value < check.min);
  });
}

describe.each(POLICIES)('decide properties: %s', (path) => {
  const compiled = compiledFixture(path);

  it('never throws on a valid snapshot and is deterministic', async () => {
    await fc.assert(
      fc.asyncProperty(snapshotFor(compiled), async (snapshot) => {
        const first = await decide(compiled, snapshot);
        expect(await decide(compiled, structuredClone(snapshot))).toEqual(first);
        expect(first.reasons.map((r) => r.rule)).not.toContain('no-decision');
      }),
      { numRuns: 300 },
    );
  });

  it('never advances or promotes with a check out of bounds or unavailable, or an abort override', async () => {
    await fc.assert(
      fc.asyncProperty(snapshotFor(compiled), async (snapshot) => {
        const { action } = await decide(compiled, snapshot);
        if (outOfBoundsOrUnavailable(compiled, snapshot) || snapshot.override === 'abort') {
          expect(['advance', 'promote']).not.toContain(action);
        }
        if (snapshot.override === 'abort') expect(action).toBe('rollback');
      }),
      { numRuns: 500 },
    );
  });

  it('lists advance and soak only when the step time says so', async () => {
    await fc.assert(
      fc.asyncProperty(snapshotFor(compiled), async (snapshot) => {
        const rules = (await decide(compiled, snapshot)).reasons.map((r) => r.rule);
        const { soakSeconds, stepElapsedSeconds, stepKind } = snapshot.rollout;
        const timeIsUp = soakSeconds !== null && stepElapsedSeconds >= soakSeconds;
        if (rules.includes('advance'))
          expect(timeIsUp || (stepKind === 'pause' && snapshot.override === 'resume')).toBe(true);
        if (rules.includes('soak')) expect(stepKind === 'weight' && !timeIsUp).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('rolls back on every breach, whatever else the snapshot says', async () => {
    await fc.assert(
      fc.asyncProperty(snapshotFor(compiled), async (snapshot) => {
        const breached = compiled.spec.checks.some((check) => {
          const m = snapshot.checks[check.name];
          return (
            m?.status === 'ok' &&
            m.value !== null &&
            ((check.max !== undefined && m.value > check.max) || (check.min !== undefined && m.value < check.min))
          );
        });
        if (breached) expect((await decide(compiled, snapshot)).action).toBe('rollback');
      }),
      { numRuns: 300 },
    );
  });
});
