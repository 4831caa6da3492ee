import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPolicies, loadPolicyFile } from '../../src/pipeline/policy/load.js';
import { MAX_BYTES, readCapped } from '../../src/pipeline/policy/read.js';
import { policyYaml } from '../helpers.js';

const BASE = `targetRef: {kind: Deployment, name: web}
steps: [{weight: 10}]
providers:
  prom: {prometheus: {address: "http://prom:9090"}}
checks:
  - {name: request-rate, provider: prom, query: up, min: 0}
  - {name: error, provider: prom, query: up, max: 1}`;

const errorsOf = (spec: string): string[] => loadPolicies(policyYaml(spec), 'p.yaml').errors;

describe('validate refuses what is knowably unbounded', () => {
  it.each([
    [
      'a self-recursive derived function',
      `${BASE}\nderived: {loop: "($f := function($n){ $f($n+1) }; $f(0))"}`,
      'p.yaml:12: spec.derived.loop: function $f calls itself: recursion is not allowed (an evaluation has a time and depth budget)',
    ],
    [
      'a range above the cap',
      `${BASE}\nderived: {n: "$count($sort([1..3000000], function($a,$b){$a<$b}))"}`,
      'p.yaml:12: spec.derived.n: the range [1..3000000] has 3000000 items, above the cap of 100000',
    ],
    [
      'a self-recursive check value',
      BASE.replace('max: 1}', 'max: 1, value: "($g := function(){ $g() }; $g())"}'),
      'p.yaml:11: spec.checks[1].value: function $g calls itself: recursion is not allowed (an evaluation has a time and depth budget)',
    ],
  ])('%s', (_, spec, line) => {
    expect(errorsOf(spec)).toEqual([line]);
  });
});

describe('durations have a range', () => {
  it.each([
    [
      'an endless soak',
      BASE.replace('[{weight: 10}]', '[{weight: 10, soak: 99999999999999999999h}]'),
      'p.yaml:6: spec.steps[0].soak: must be at most 24h, got "99999999999999999999h"',
    ],
    ['a 1ms interval', `${BASE}\ninterval: 1ms`, 'p.yaml:12: spec.interval: must be at least 1s, got "1ms"'],
    [
      'a 10h timeout',
      BASE.replace('"http://prom:9090"}', '"http://prom:9090", timeout: 10h}'),
      'p.yaml:8: spec.providers.prom.prometheus.timeout: must be at most 5m, got "10h"',
    ],
    [
      'a timeout above the interval',
      `${BASE.replace('"http://prom:9090"}', '"http://prom:9090", timeout: 20s}')}\ninterval: 10s`,
      'p.yaml:8: spec.providers.prom.prometheus.timeout: 20s is above spec.interval 10s: a query must end before the next tick',
    ],
    [
      'a pause of a month',
      BASE.replace('[{weight: 10}]', '[{weight: 10}, {pause: {duration: 720h}}]'),
      'p.yaml:6: spec.steps[1].pause.duration: must be at most 168h, got "720h"',
    ],
    [
      'a 1s progress deadline',
      `${BASE}\npodHealth: {progressDeadline: 1s}`,
      'p.yaml:12: spec.podHealth.progressDeadline: must be at least 10s, got "1s"',
    ],
  ])('%s', (_, spec, line) => {
    expect(errorsOf(spec)).toEqual([line]);
  });

  it('a soak of 0s is allowed (advance at once); other durations must be above 0', () => {
    expect(errorsOf(BASE.replace('[{weight: 10}]', '[{weight: 10, soak: 0s}]'))).toEqual([]);
    expect(errorsOf(`${BASE}\ninterval: 0s`)).toEqual(['p.yaml:12: spec.interval: a duration must be longer than 0s']);
  });
});

describe('every path a rule or derived fact reads must exist', () => {
  it.each([
    [
      'a hyphenated check name without backquotes',
      `${BASE}\nderived: {rps: "checks.request-rate.value"}`,
      'p.yaml:12: spec.derived.rps: checks.request-rate.value reads as a subtraction (checks.request minus …); a name with "-" needs backquotes: checks.`request-rate`.value',
    ],
    [
      'a derived path to a check that does not exist',
      `${BASE}\nderived: {x: "checks.erorr.value * 2"}`,
      'p.yaml:12: spec.derived.x: checks.erorr.value: no check "erorr" (did you mean "error"?)',
    ],
    [
      'a derived path to a field the snapshot lacks',
      `${BASE}\nderived: {x: "rollout.canary.ready"}`,
      'p.yaml:12: spec.derived.x: rollout.canary.ready: rollout.canary has no field "ready"; it has desiredReplicas, readyReplicas, restarts',
    ],
    [
      'a derived fact reading another',
      `${BASE}\nderived: {a: "1", b: "derived.a + 1"}`,
      'p.yaml:12: spec.derived.b: derived.a: a derived fact cannot read another (they are all computed from the same snapshot)',
    ],
    [
      'a rule path to a check that does not exist',
      `${BASE}\nrules: [{name: r, then: hold, when: {fact: checks, path: "$.erorr.value", operator: greaterThan, value: 1}}]`,
      'p.yaml:12: spec.rules[0].when.path: no check "erorr" (did you mean "error"?)',
    ],
    [
      'a rule path to a derived fact that does not exist',
      `${BASE}\nderived: {burn: "checks.error.value / 0.001"}\nrules: [{name: r, then: hold, when: {all: [{fact: derived, path: "$.bunr", operator: greaterThan, value: 1}]}}]`,
      'p.yaml:13: spec.rules[0].when.all[0].path: no derived fact "bunr" (did you mean "burn"?)',
    ],
    [
      'a rule path below a leaf',
      `${BASE}\nrules: [{name: r, then: hold, when: {fact: override, path: "$.kind", operator: equal, value: 1}}]`,
      'p.yaml:12: spec.rules[0].when.path: override has no field "kind"',
    ],
    [
      'a custom message naming nothing',
      `${BASE}\nrules: [{name: r, then: hold, message: "slow: {checks.eror.value}", when: {fact: kube, path: "$.warningEvents", operator: greaterThan, value: 1}}]`,
      'p.yaml:12: spec.rules[0].message: {checks.eror.value}: no check "eror" (did you mean "error"?)',
    ],
  ])('%s', (_, spec, line) => {
    expect(errorsOf(spec)).toEqual([line]);
  });

  it('accepts what exists: backquoted names, wildcards, kube reasons, a filter', () => {
    const derived =
      'derived: {rps: "checks.`request-rate`.value", ok: "$count(checks.*[status = \'ok\'])", freeze: "kube.reasons.Freeze", step: "$$.rollout.step"}';
    const rules =
      'rules: [{name: r, then: hold, message: "rps {derived.rps} at step {rollout.step}", when: {fact: checks, path: "$.request-rate.value", operator: lessThan, value: 50}}]';
    expect(errorsOf(`${BASE}\n${derived}\n${rules}`)).toEqual([]);
  });

  it('in and notIn take lists: a string would match substrings', () => {
    const rule = (value: string) =>
      `${BASE}\nrules: [{name: r, then: hold, when: {fact: override, operator: in, value: ${value}}}]`;
    expect(errorsOf(rule('abort'))).toEqual([
      'p.yaml:12: spec.rules[0].when.value: operator in takes a list of values, like [abort, pause]; got "abort"',
    ]);
    expect(errorsOf(rule('[abort]'))).toEqual([]);
  });
});

describe('credentials never sit in a URL', () => {
  it.each([
    [
      'a provider address',
      BASE.replace('http://prom:9090', 'http://user:secretpw@prom:9090'),
      'p.yaml:8: spec.providers.prom.prometheus.address: a URL may not carry credentials (user:password@): they would reach logs, snapshots and the audit log; use a Secret ref',
    ],
    [
      'the audit webhook',
      `${BASE}\naudit: {webhook: {url: "https://u:p@siem.example/x", secretRef: {name: s, key: k}}}`,
      'p.yaml:12: spec.audit.webhook.url: a URL may not carry credentials (user:password@): they would reach logs, snapshots and the audit log; use a Secret ref',
    ],
  ])('%s is refused, and the password is not echoed', (_, spec, line) => {
    const errors = errorsOf(spec);
    expect(errors).toEqual([line]);
    expect(errors.join('\n')).not.toContain('secretpw');
  });
});

describe('YAML', () => {
  it('merge keys (<<:) work as kubectl reads them', () => {
    const spec = `${BASE.replace(/ {2}- \{name: request-rate.*\n/, '')}
  - <<: *check
    name: latency
    max: 2`.replace(
      '  - {name: error, provider: prom, query: up, max: 1}',
      '  - &check {name: error, provider: prom, query: up, max: 1}',
    );
    const { policies, errors } = loadPolicies(policyYaml(spec), 'p.yaml');
    expect(errors).toEqual([]);
    expect(policies[0]?.policy.spec.checks[1]).toEqual({ name: 'latency', provider: 'prom', query: 'up', max: 2 });
  });

  it('a 64k-key policy is parsed in linear time and its duplicate key named (speed: bench/parse.bench.mjs)', () => {
    const labels = Array.from({ length: 65_536 }, (_, i) => `    label-${i}: value`).join('\n');
    const text = `apiVersion: kubestead.io/v1alpha1\nkind: RolloutPolicy\nmetadata:\n  name: t\n  labels:\n${labels}\n    label-7: again\nspec:\n${BASE.split(
      '\n',
    )
      .map((l) => `  ${l}`)
      .join('\n')}\n`;
    expect(text.length).toBeGreaterThan(1_000_000);
    expect(loadPolicies(text, 'big.yaml').errors).toEqual([
      'big.yaml:65542: (yaml): duplicate key "label-7" (first at line 13)',
    ]);
  });
});

describe('what is read is capped', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kubestead-caps-'));

  it('a policy file above 1.5 MiB is one line, read no further', async () => {
    const file = join(dir, 'big.yaml');
    writeFileSync(file, `# ${'x'.repeat(MAX_BYTES.policy)}\n`);
    expect((await loadPolicyFile(file)).errors).toEqual([
      `${file}: too large: over the 1.5 MiB limit for a policy file`,
    ]);
  });

  it('an endless device stops at the cap', async () => {
    await expect(readCapped('/dev/zero', 'snapshot')).resolves.toEqual({
      error: '/dev/zero: too large: over the 1 MiB limit for a snapshot file',
    });
  });

  it('file errors are words', async () => {
    await expect(readCapped(join(dir, 'nope.yaml'), 'policy')).resolves.toEqual({
      error: `${join(dir, 'nope.yaml')}: cannot read: no such file`,
    });
    await expect(readCapped(dir, 'policy')).resolves.toEqual({
      error: `${dir}: cannot read: it is a folder, not a file`,
    });
  });
});
