/**
 * Random fact snapshots for a compiled policy (fast-check): the input side of decide's property
 * tests and of the policy fuzzer (test/reliability/fuzz).
 */
import fc from 'fast-check';
import type { CompiledPolicy } from '../../src/pipeline/compile/compile.js';
import { stepFacts } from '../../src/pipeline/decide/consistency.js';
import type { FactSnapshot } from '../../src/pipeline/facts/snapshot.js';
import { OVERRIDES, PHASES } from '../../src/pipeline/policy/vocabulary.js';

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
export function snapshotFor(compiled: CompiledPolicy): fc.Arbitrary<FactSnapshot> {
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
