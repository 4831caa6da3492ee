import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CompiledPolicy } from '../../src/pipeline/compile/compile.js';
import { stepFacts } from '../../src/pipeline/decide/consistency.js';
import { decide } from '../../src/pipeline/decide/decide.js';
import type { FactSnapshot } from '../../src/pipeline/facts/snapshot.js';
import { OVERRIDES, PHASES } from '../../src/pipeline/policy/vocabulary.js';
import { compiledFixture } from '../helpers.js';

const POLICIES = [
  'policies/checkout.yaml',
  'policies/payments-istio.yaml',
  'policies/web-nginx.yaml',
  'policies/cart-smi.yaml',
];

const value = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true, min: -10, max: 10 }),
  fc.constantFrom(0, 0.01, 0.9, 1, 1.5, 100000),
);
const measurement = fc.oneof(
  fc.record({ status: fc.constant('ok' as const), value }),
  fc.record({
    status: fc.constant('unavailable' as const),
    value: fc.constant(null),
    error: fc.constantFrom('timeout after 5s', 'empty result'),
  }),
);

/** Any valid FactSnapshot for a policy: steps (kind, weight and soak as the policy says), checks (some missing), overrides, events. */
function snapshotFor(compiled: CompiledPolicy): fc.Arbitrary<FactSnapshot> {
  const stepCount = compiled.spec.steps.length;
  const checkEntries = compiled.spec.checks.map((check) =>
    fc
      .option(
        measurement.map((m) => ({
          ...m,
          min: check.min ?? null,
          max: check.max ?? null,
          provider: check.provider,
          query: check.query,
        })),
        { nil: undefined },
      )
      .map((m) => [check.name, m] as const),
  );
  return fc
    .record({
      version: fc.constant(1 as const),
      time: fc.constant('2026-11-26T10:00:00Z'),
      rollout: fc.record({
        phase: fc.constantFrom(...PHASES),
        step: fc.nat(stepCount - 1),
        stepCount: fc.constant(stepCount),
        manualPause: fc.boolean(),
        stepElapsedSeconds: fc.nat(4000),
        canary: fc.record({ desiredReplicas: fc.nat(5), readyReplicas: fc.nat(5), restarts: fc.nat(6) }),
        stable: fc.record({ desiredReplicas: fc.nat(5), readyReplicas: fc.nat(5) }),
      }),
      checks: fc
        .tuple(...checkEntries)
        .map((entries) => Object.fromEntries(entries.filter(([, m]) => m !== undefined))),
      derived: fc.constant({}),
      kube: fc.record({ warningEvents: fc.nat(5), reasons: fc.constant({}) }),
      override: fc.option(fc.constantFrom(...OVERRIDES), { nil: null }),
    })
    .map((s) => ({
      ...s,
      rollout: { ...s.rollout, ...stepFacts(compiled.spec, s.rollout.step) },
    })) as fc.Arbitrary<FactSnapshot>;
}

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
