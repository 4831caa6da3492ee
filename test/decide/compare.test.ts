import { describe, expect, it } from 'vitest';
import { compilePolicy } from '../../src/pipeline/compile/compile.js';
import { decide } from '../../src/pipeline/decide/decide.js';
import { loadPolicies } from '../../src/pipeline/policy/load.js';
import { defaultSnapshot, mergeSnapshot } from '../../src/tools/policytest/defaults.js';
import { fixtureText } from '../helpers.js';

/** checkout-compare.yaml with another direction: confidence 0.98 (p must be below 0.02), tolerance 0.25. */
function policyWith(direction: string) {
  const text = fixtureText('policies/checkout-compare.yaml').replace('direction: increase', `direction: ${direction}`);
  const { policies, errors } = loadPolicies(text, 'checkout-compare.yaml');
  if (errors.length) throw new Error(errors.join('\n'));
  return compilePolicy(policies[0]!.policy);
}

/** A snapshot mid-soak whose latency comparison measured these statistics. */
function measured(comparison: { pValue: number; shift: number; effectSize: number | null; primaryMedian: number }) {
  const base = defaultSnapshot(policyWith('either').spec, 0);
  return mergeSnapshot(base, { checks: { latency: { value: comparison.shift, comparison } } });
}

describe('a comparison check decides through the check-breach rule', () => {
  it.each([
    // direction, p, shift, effect, primary median → breach?
    ['increase', 0.001, 0.1, 0.5, 0.2, true],
    ['increase', 0.019, 0.1, 0.5, 0.2, true],
    ['increase', 0.02, 0.1, 0.5, 0.2, false], // p must be below 1 − confidence, not equal
    ['increase', 0.001, 0.05, 0.25, 0.2, false], // the shift must exceed the tolerance, not equal it
    ['increase', 0.001, 0.06, 0.3, 0.2, true],
    ['increase', 0.001, -0.1, -0.5, 0.2, false], // faster: not what increase fails on
    ['increase', 0.001, 0.1, null, 0, true], // primary's median 0: any shift up is past any share of it
    ['increase', 0.001, -0.1, null, 0, false],
    ['decrease', 0.001, -0.1, -0.5, 0.2, true],
    ['decrease', 0.001, 0.1, 0.5, 0.2, false],
    ['decrease', 0.001, -0.05, -0.25, 0.2, false],
    ['decrease', 0.001, -0.1, null, 0, true],
    ['either', 0.001, 0.1, 0.5, 0.2, true],
    ['either', 0.001, -0.1, -0.5, 0.2, true],
    ['either', 0.5, -0.1, -0.5, 0.2, false],
    ['either', 0.001, 0, 0, 0, false],
  ] as const)(
    'direction %s, p %d, shift %d (effect %s, median %d): breach %s',
    async (direction, p, shift, effect, m, breach) => {
      const decision = await decide(
        policyWith(direction),
        measured({ pValue: p, shift, effectSize: effect, primaryMedian: m }),
      );
      expect(decision.action).toBe(breach ? 'rollback' : 'hold');
      expect(decision.reasons[0]?.rule).toBe(breach ? 'check-breach' : 'soak');
      if (breach) expect(decision.reasons[0]?.check).toBe('latency');
    },
  );

  it('says why, with the shift, its share of the median, the tolerance and the p-value', async () => {
    const decision = await decide(
      policyWith('increase'),
      measured({ pValue: 0.000123, shift: 0.09, effectSize: 0.45, primaryMedian: 0.2 }),
    );
    expect(decision.reasons[0]).toEqual({
      rule: 'check-breach',
      check: 'latency',
      message:
        "latency: the canary is higher than primary (shift 0.09, 0.45 × primary's median 0.2, tolerance 0.25; " +
        'p = 0.000123 < 0.02)',
    });
  });

  it('a healthy default snapshot has the canary like primary: no breach', async () => {
    const policy = policyWith('either');
    const decision = await decide(policy, defaultSnapshot(policy.spec, 0));
    expect(decision).toMatchObject({ action: 'hold', reasons: [{ rule: 'soak' }] });
  });

  it('an unavailable comparison is unavailable, never a pass', async () => {
    const policy = policyWith('increase');
    const snapshot = mergeSnapshot(defaultSnapshot(policy.spec, 0), {
      checks: {
        latency: { status: 'unavailable', error: 'canary: 3 samples in the 10m window, fewer than minSamples 20' },
      },
      rollout: { stepElapsedSeconds: 600 },
    });
    const decision = await decide(policy, snapshot);
    expect(decision.action).toBe('rollback');
    expect(decision.reasons[0]).toMatchObject({ rule: 'metric-unavailable', check: 'latency' });
  });
});
