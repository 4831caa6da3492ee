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
  it('shares the rule set of specs that differ only in their target, never their engine or identity', () => {
    const a = compilePolicy(policy('a', 'app-a', 1));
    const b = compilePolicy(policy('b', 'app-b', 1));
    expect(b.rule).toBe(a.rule);
    expect(b.reasons).toBe(a.reasons);
    expect(b.engine).not.toBe(a.engine);
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
});
