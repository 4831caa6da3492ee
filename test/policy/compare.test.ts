import { describe, expect, it } from 'vitest';
import { loadPolicies } from '../../src/pipeline/policy/load.js';
import { comparisonOf } from '../../src/pipeline/policy/compare.js';
import { policyYaml } from '../helpers.js';

const spec = (check: string) => `targetRef: {kind: Deployment, name: web}
steps: [{weight: 10}]
providers:
  prom: {prometheus: {address: "http://prom:9090"}}
checks:
  - ${check}`;

const COMPARE = 'compare: {canary: "p90{track=\\"canary\\"}", primary: "p90{track=\\"primary\\"}"}';

const errorsOf = (check: string): string[] => loadPolicies(policyYaml(spec(check)), 'p.yaml').errors;

describe('comparison checks in the schema', () => {
  it('takes the example of the issue, and fills the defaults of the fields left out', () => {
    const { policies, errors } = loadPolicies(
      policyYaml(spec(`{name: latency, provider: prom, ${COMPARE}}`)),
      'p.yaml',
    );
    expect(errors).toEqual([]);
    const check = policies[0]!.policy.spec.checks[0]!;
    expect(check.compare).toEqual({
      canary: 'p90{track="canary"}',
      primary: 'p90{track="primary"}',
      window: '10m',
      step: '15s',
    });
    expect(comparisonOf(check)).toEqual({
      canary: 'p90{track="canary"}',
      primary: 'p90{track="primary"}',
      windowSeconds: 600,
      stepSeconds: 15,
      direction: 'either',
      confidence: 0.98,
      tolerance: 0.25,
      minSamples: 20,
    });
  });

  it('leaves a threshold check as it was: no comparison fields, no defaults added', () => {
    const { policies } = loadPolicies(policyYaml(spec('{name: errors, provider: prom, query: up, max: 1}')), 'p.yaml');
    expect(policies[0]!.policy.spec.checks[0]).toEqual({ name: 'errors', provider: 'prom', query: 'up', max: 1 });
    expect(comparisonOf(policies[0]!.policy.spec.checks[0]!)).toBeNull();
  });

  it.each([
    [
      'both query and compare',
      `{name: l, provider: prom, query: up, ${COMPARE}}`,
      'p.yaml:10: spec.checks[0]: a check has exactly one of "query" or "compare"',
    ],
    [
      'neither',
      '{name: l, provider: prom, max: 1}',
      'p.yaml:10: spec.checks[0]: a check needs a "query" (or a "compare")',
    ],
    [
      'a bound on a comparison',
      `{name: l, provider: prom, max: 1, ${COMPARE}}`,
      'p.yaml:10: spec.checks[0].max: a comparison check has no "max": it judges canary against primary (direction, confidence, tolerance)',
    ],
    [
      'a value expression on a comparison',
      `{name: l, provider: prom, value: "x", ${COMPARE}}`,
      'p.yaml:10: spec.checks[0].value: a comparison check has no "value": it judges canary against primary (direction, confidence, tolerance)',
    ],
    [
      'a direction on a threshold check',
      '{name: l, provider: prom, query: up, max: 1, direction: increase}',
      'p.yaml:10: spec.checks[0].direction: "direction" belongs to a comparison check (one with "compare" instead of "query")',
    ],
    [
      'a confidence of 1',
      `{name: l, provider: prom, confidence: 1, ${COMPARE}}`,
      'p.yaml:10: spec.checks[0].confidence: a confidence is above 0 and below 1, like 0.98',
    ],
    [
      'an unknown direction',
      `{name: l, provider: prom, direction: up, ${COMPARE}}`,
      'p.yaml:10: spec.checks[0].direction: expected one of "increase", "decrease", "either", got "up"',
    ],
    [
      'a window too short for minSamples',
      '{name: l, provider: prom, compare: {canary: a, primary: b, window: 1m, step: 15s}}',
      'p.yaml:10: spec.checks[0].compare.window: window 1m at step 15s gives at most 5 samples a side, fewer than minSamples 20: it could never pass',
    ],
    [
      'more samples than the test keeps',
      '{name: l, provider: prom, compare: {canary: a, primary: b, window: 1h, step: 1s}}',
      'p.yaml:10: spec.checks[0].compare.step: window 1h at step 1s gives 3601 samples a side; at most 1000',
    ],
    [
      'an unknown template variable in a side',
      '{name: l, provider: prom, compare: {canary: "up{a=\\"{{ target.labels }}\\"}", primary: b}}',
      'p.yaml:10: spec.checks[0].compare.canary: unknown template variable "{{ target.labels }}"; the variables are target.name, target.namespace, policy.name, rollout.canaryRevision',
    ],
    [
      'an unknown field in compare, with a suggestion',
      '{name: l, provider: prom, compare: {canary: a, primary: b, windw: 5m}}',
      'p.yaml:10: spec.checks[0].compare.windw: unknown field "windw" (did you mean "window"?)',
    ],
  ])('refuses %s', (_, check, error) => {
    expect(errorsOf(check)).toContain(error);
  });
});
