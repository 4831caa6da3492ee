import { describe, expect, it } from 'vitest';
import { loadPolicies } from '../../src/pipeline/policy/load.js';
import { parseDuration, formatDuration } from '../../src/pipeline/policy/duration.js';
import { policyYaml } from '../helpers.js';

const BASE = `targetRef: {kind: Deployment, name: web}
steps: [{weight: 10}]
providers:
  prom: {prometheus: {address: "http://prom:9090"}}
checks:
  - {name: errors, provider: prom, query: up, max: 1}`;

function errorsOf(spec: string): string[] {
  return loadPolicies(policyYaml(spec), 'p.yaml').errors;
}

describe('RolloutPolicy schema', () => {
  it('fills every default of DESIGN.md §3', () => {
    const { policies, errors } = loadPolicies(policyYaml(BASE), 'p.yaml');
    expect(errors).toEqual([]);
    const spec = policies[0]!.policy.spec;
    expect(spec.interval).toBe('30s');
    expect(spec.trafficRouting).toEqual({ replicas: {} });
    expect(spec.onMetricUnavailable).toBe('rollback');
    expect(spec.mode).toBe('active');
    expect(spec.podHealth).toEqual({ maxRestarts: 3, progressDeadline: '10m', maxWarningEvents: null });
    expect(spec.providers.prom?.prometheus?.timeout).toBe('5s');
    expect(policies[0]!.policy.metadata.namespace).toBe('ns');
  });

  it.each([
    [
      'a wrong type, with the value',
      BASE.replace('max: 1', 'max: "0.5x"'),
      'p.yaml:10: spec.checks[0].max: expected a number, got "0.5x"',
    ],
    [
      'an unknown field, with a suggestion',
      `${BASE}\nintreval: 30s`,
      'p.yaml:11: spec.intreval: unknown field "intreval" (did you mean "interval"?)',
    ],
    [
      'a dangling provider',
      BASE.replace('provider: prom', 'provider: dd'),
      'p.yaml:10: spec.checks[0].provider: unknown provider "dd"; providers are prom',
    ],
    ['a bad duration', `${BASE}\ninterval: 30`, 'p.yaml:11: spec.interval: expected a string, got 30'],
    [
      'a Go duration with a bad unit',
      `${BASE}\ninterval: 30d`,
      'p.yaml:11: spec.interval: expected a duration like 30s, 5m or 1h30m, got "30d"',
    ],
    [
      'descending weights',
      BASE.replace('[{weight: 10}]', '[{weight: 10}, {weight: 10}]'),
      'p.yaml:6: spec.steps[1].weight: weights must ascend: 10 is not above 10 (steps[0])',
    ],
    [
      'a weight over 100',
      BASE.replace('weight: 10', 'weight: 100.5'),
      'p.yaml:6: spec.steps[0].weight: a weight must be at most 100, got 100.5',
    ],
    [
      'a NaN threshold',
      BASE.replace('max: 1', 'max: .nan'),
      'p.yaml:10: spec.checks[0].max: expected a finite number, got NaN',
    ],
    ['min above max', BASE.replace('max: 1', 'min: 2, max: 1'), 'p.yaml:10: spec.checks[0].min: min 2 is above max 1'],
    [
      'no bound',
      BASE.replace(', max: 1', ''),
      'p.yaml:10: spec.checks[0]: a check needs at least one bound: min or max',
    ],
    [
      'an unknown template variable',
      BASE.replace('query: up', 'query: "up{a=\\"{{ target.labels }}\\"}"'),
      'p.yaml:10: spec.checks[0].query: unknown template variable "{{ target.labels }}"; the variables are target.name, target.namespace, policy.name, rollout.canaryRevision',
    ],
    [
      'two routers',
      `${BASE}\ntrafficRouting: {replicas: {}, smi: {trafficSplit: {name: x}}}`,
      'p.yaml:11: spec.trafficRouting: expected exactly one traffic router of replicas, istio, gatewayAPI, smi, nginx; got replicas and smi',
    ],
    [
      'a provider with no kind',
      BASE.replace('{prometheus: {address: "http://prom:9090"}}', '{}'),
      'p.yaml:8: spec.providers.prom: expected exactly one provider kind of prometheus, datadog, newRelic, web, cloudWatch; got none',
    ],
    [
      'a bad enum value',
      `${BASE}\nmode: shdow`,
      'p.yaml:11: spec.mode: expected one of "active", "shadow", got "shdow" (did you mean "shadow"?)',
    ],
    ['a missing required field', 'steps: [{weight: 10}]', 'p.yaml:4: spec.targetRef: required field is missing'],
  ])('rejects %s with one precise line', (_, spec, line) => {
    expect(errorsOf(spec)).toEqual([line]);
  });

  it('reports every error of a file, in line order', () => {
    const errors = errorsOf(BASE.replace('max: 1', 'max: x').replace('weight: 10', 'weight: -1').concat('\nfoo: 1'));
    expect(errors).toHaveLength(3);
    expect(errors.map((e) => Number(e.split(':')[1]))).toEqual([6, 10, 11]);
  });

  it('names file and line of YAML syntax errors and loses no other document', () => {
    const text = `${policyYaml(BASE)}---\nfoo: [1, 2\n---\n${policyYaml(BASE).replace('name: t', 'name: u')}`;
    const { policies, errors } = loadPolicies(text, 'multi.yaml');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^multi\.yaml:1[3-5]: \(yaml\): /);
    expect(policies.map((p) => p.policy.metadata.name)).toEqual(['t', 'u']);
  });

  it('skips documents of other API groups in a multi-document file', () => {
    const text = `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n---\n${policyYaml(BASE)}`;
    const { policies, errors } = loadPolicies(text, 'all.yaml');
    expect(errors).toEqual([]);
    expect(policies).toHaveLength(1);
    expect(policies[0]!.line).toBe(5);
  });

  it('names a missing literal as missing and cuts long values in messages', () => {
    const long = 'x'.repeat(200);
    expect(
      errorsOf(BASE.replace('kind: Deployment, ', '').replace('query: up', `query: up, provider2: "${long}"`)),
    ).toEqual([
      'p.yaml:5: spec.targetRef.kind: required field is missing',
      `p.yaml:10: spec.checks[0].provider2: unknown field "provider2" (did you mean "provider"?)`,
    ]);
    expect(loadPolicies(`${long}\n`, 'junk.yaml').errors).toEqual([
      `junk.yaml:1: (document): expected a map, got "${'x'.repeat(59)}…"`,
    ]);
  });

  it('rejects duplicate check names and custom rules that reuse a built-in name', () => {
    const spec = `${BASE}\n  - {name: errors, provider: prom, query: up, min: 0}\nrules:\n  - {name: soak, when: {fact: override, operator: equal, value: abort}, then: hold}`;
    expect(errorsOf(spec)).toEqual([
      'p.yaml:11: spec.checks[1].name: duplicate check name "errors" (first at checks[0])',
      'p.yaml:13: spec.rules[0].name: "soak" is the name of a built-in rule; choose another',
    ]);
  });

  it('rejects a condition that mixes forms', () => {
    const spec = `${BASE}\nrules:\n  - {name: r, when: {all: [], fact: rollout, operator: equal, value: 1}, then: hold}`;
    expect(errorsOf(spec)).toEqual([
      'p.yaml:12: spec.rules[0].when.all: expected at least 1 item(s)',
      'p.yaml:12: spec.rules[0].when: a condition has exactly one of all, any, not or fact; got all and fact',
    ]);
  });
});

describe('durations', () => {
  it.each([
    ['30s', 30],
    ['5m', 300],
    ['1h30m', 5400],
    ['1.5s', 1.5],
    ['250ms', 0.25],
    ['2h', 7200],
  ])('%s is %d seconds', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  it.each(['', '5', 'm5', '5 m', '-5s', '5d', '1h 30m'])('%j is not a duration', (text) => {
    expect(parseDuration(text)).toBeNull();
  });

  it.each([
    [300, '5m'],
    [5400, '1h30m'],
    [0.25, '250ms'],
    [61, '1m1s'],
  ])('formats %d as %s', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
    expect(parseDuration(text)).toBe(seconds);
  });
});
