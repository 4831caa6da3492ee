import { describe, expect, it } from 'vitest';
import { compilePolicy } from '../../src/pipeline/compile/compile.js';
import { decide } from '../../src/pipeline/decide/decide.js';
import { parsePolicy } from '../../src/pipeline/policy/load.js';
import type { RolloutPolicy } from '../../src/pipeline/policy/schema.js';
import { defaultSnapshot, mergeSnapshot } from '../../src/tools/policytest/defaults.js';

/** A policy on Deployment `target` whose one check has bound `max`. */
function policy(name: string, target: string, max: number): RolloutPolicy {
  const parsed = parsePolicy({
    apiVersion: 'kubestead.io/v1alpha1',
    kind: 'RolloutPolicy',
    metadata: { name, namespace: 'shop' },
    spec: {
      targetRef: { kind: 'Deployment', name: target },
      interval: '10s',
      steps: [{ weight: 50, soak: '1h' }],
      providers: { prom: { prometheus: { address: 'http://prometheus:9090' } } },
      checks: [{ name: 'errors', provider: 'prom', query: 'sum(rate(errors_total[1m]))', max }],
    },
  });
  if (!parsed.policy) throw new Error(JSON.stringify(parsed.issues));
  return parsed.policy;
}

describe('compiled policies shared by content', () => {
  it('shares the rule set and its engines of specs that differ only in their target, never their identity', () => {
    const a = compilePolicy(policy('a', 'app-a', 1));
    const b = compilePolicy(policy('b', 'app-b', 1));
    expect(b.rule).toBe(a.rule);
    expect(b.reasons).toBe(a.reasons);
    expect(b.engines).toBe(a.engines);
    expect([a.policy.name, b.policy.name]).toEqual(['a', 'b']);
    expect(b.hash).not.toBe(a.hash);
    expect(b.spec.targetRef.name).toBe('app-b');
  });

  it('compiles a spec that differs elsewhere on its own, and decides by its own bounds', async () => {
    const strict = compilePolicy(policy('strict', 'app-s', 0.5));
    const loose = compilePolicy(policy('loose', 'app-l', 2));
    expect(loose.rule).not.toBe(strict.rule);
    const snapshot = mergeSnapshot(defaultSnapshot(strict.spec, 0), { checks: { errors: { value: 1 } } });
    const [s, l] = await Promise.all([decide(strict, snapshot), decide(loose, snapshot)]);
    expect(s.action).toBe('rollback');
    expect(l.action).not.toBe('rollback');
  });

  it('keeps as many engines as decisions ran at once, not one a policy', async () => {
    // a bound no other test uses: a rule set (and pool) of its own
    const many = Array.from({ length: 40 }, (_, i) => compilePolicy(policy(`p${i}`, `app-${i}`, 0.75)));
    const pool = many[0]!.engines;
    const at = (value: number) => mergeSnapshot(defaultSnapshot(many[0]!.spec, 0), { checks: { errors: { value } } });
    for (const compiled of many) expect((await decide(compiled, at(0.1))).action).not.toBe('rollback');
    expect(pool.size).toBe(1);
    // five at once, alternately in and out of bounds: each takes an engine no other run holds
    const values = [1, 0.1, 1, 0.1, 1];
    const decisions = await Promise.all(values.map((value, i) => decide(many[i]!, at(value))));
    expect(decisions.map((d) => d.action === 'rollback')).toEqual([true, false, true, false, true]);
    expect(pool.size).toBeGreaterThan(1);
    expect(pool.size).toBeLessThanOrEqual(values.length);
    const afterBurst = pool.size;
    for (const compiled of many) await decide(compiled, at(0.1));
    expect(pool.size).toBe(afterBurst);
  });
});
