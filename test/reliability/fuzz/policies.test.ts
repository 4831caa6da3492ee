import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { compilePolicy, type CompiledPolicy } from '../../../src/pipeline/compile/compile.js';
import { decide } from '../../../src/pipeline/decide/decide.js';
import type { FactSnapshot } from '../../../src/pipeline/facts/snapshot.js';
import { loadPolicies } from '../../../src/pipeline/policy/load.js';
import { snapshotFor } from '../../support/snapshots.js';
import { fuzzRuns } from './settings.js';

/** A number as a policy might hold it: ordinary, huge, negative, or a YAML special value. */
const bound = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }),
  fc.constantFrom(0, 1e308, -1e308, Number.NaN, Number.POSITIVE_INFINITY, '.nan', '.inf', 'NaN', '1e999', '0.05'),
);
const duration = fc.constantFrom('10s', '1m', '5m', '0s', '-1m', '1x', '', 'forever', 30, null);
const step = fc.oneof(
  fc.record({ weight: fc.oneof(fc.integer({ min: -10, max: 150 }), fc.constant('50')) }, { requiredKeys: ['weight'] }),
  fc.record({ weight: fc.integer({ min: 0, max: 100 }), soak: duration }),
  fc.record({ pause: fc.oneof(fc.constant({}), fc.record({ duration })) }),
  fc.constant({}),
);
const providerName = fc.constantFrom('prom', 'dd', 'missing', '');
const check = fc.record(
  {
    name: fc.constantFrom('errors', 'latency', 'errors', 'bad name!', ''),
    provider: providerName,
    query: fc.constantFrom('sum(rate(errors[1m]))', '', 'up{app="{{ target.name }}"}', 'avg:trace.errors{*}'),
    min: bound,
    max: bound,
    value: fc.constantFrom('value', '$$', 'series[0].pointlist[-1][1]'),
  },
  { requiredKeys: ['name', 'provider', 'query'] },
);

/** A RolloutPolicy spec with random, often invalid, parts: steps, checks, providers, options. */
const rubbish = fc.record(
  {
    targetRef: fc.constantFrom({ kind: 'Deployment', name: 'app' }, { kind: 'Pod', name: 'app' }, { name: 'app' }),
    interval: duration,
    steps: fc.array(step, { maxLength: 6 }),
    providers: fc.constantFrom(
      { prom: { prometheus: { address: 'http://prometheus:9090' } } },
      { prom: { prometheus: { address: 'http://user:secret@prometheus:9090' } } },
      { dd: { datadog: { site: 'datadoghq.com' } } },
      { prom: { prometheus: {} } },
      {},
    ),
    checks: fc.array(check, { maxLength: 4 }),
    onMetricUnavailable: fc.constantFrom('rollback', 'pause', 'advance', 'ignore'),
    mode: fc.constantFrom('active', 'shadow', 'yolo'),
  },
  { requiredKeys: ['targetRef', 'steps'] },
);

/** A valid spec: ascending weights, soaks and pauses, checks on one Prometheus with finite bounds. */
const valid = fc.record({
  targetRef: fc.constant({ kind: 'Deployment', name: 'app' }),
  interval: fc.constantFrom('10s', '1m'),
  steps: fc
    .uniqueArray(fc.integer({ min: 1, max: 100 }), { minLength: 1, maxLength: 5 })
    .chain((weights) =>
      fc.tuple(
        ...weights
          .sort((a, b) => a - b)
          .map((weight) =>
            fc.oneof(
              fc.constant({ weight }),
              fc.record({ weight: fc.constant(weight), soak: fc.constantFrom('10s', '1m', '5m') }),
            ),
          ),
        fc.boolean(),
      ),
    )
    .map((parts) => {
      const pause = parts.pop() as boolean;
      return pause ? [parts[0], { pause: {} }, ...parts.slice(1)] : parts;
    }),
  providers: fc.constant({ prom: { prometheus: { address: 'http://prometheus:9090' } } }),
  checks: fc.uniqueArray(fc.constantFrom('errors', 'latency', 'saturation'), { maxLength: 3 }).chain((names) =>
    fc.tuple(
      ...names.map((name) =>
        fc.record(
          {
            name: fc.constant(name),
            provider: fc.constant('prom'),
            query: fc.constantFrom('sum(rate(errors[1m]))', 'up{app="{{ target.name }}"}'),
            min: fc.double({ noNaN: true, noDefaultInfinity: true, min: -10, max: 0 }),
            max: fc.double({ noNaN: true, noDefaultInfinity: true, min: 0, max: 10 }),
          },
          { requiredKeys: ['name', 'provider', 'query'] },
        ),
      ),
    ),
  ),
  onMetricUnavailable: fc.constantFrom('rollback', 'pause'),
  mode: fc.constantFrom('active', 'shadow'),
});

/** A valid spec with one part replaced by a random (often invalid) one, or a wholly random one. */
const spec = fc.oneof(
  { arbitrary: valid, weight: 2 },
  {
    arbitrary: fc
      .tuple(valid, rubbish, fc.constantFrom('steps', 'checks', 'providers', 'interval', 'mode', 'targetRef'))
      .map(([good, bad, key]) => ({ ...good, [key]: (bad as Record<string, unknown>)[key] })),
    weight: 2,
  },
  { arbitrary: rubbish, weight: 1 },
);

const policyText = (body: unknown): string =>
  stringify({
    apiVersion: 'kubestead.io/v1alpha1',
    kind: 'RolloutPolicy',
    metadata: { name: 'app', namespace: 'ns' },
    spec: body,
  });

function unavailableOrOutOfBounds(compiled: CompiledPolicy, snapshot: FactSnapshot): boolean {
  return compiled.spec.checks.some((c) => {
    const m = snapshot.checks[c.name];
    if (!m || m.status !== 'ok' || m.value === null || !Number.isFinite(m.value)) return true;
    return (c.max !== undefined && m.value > c.max) || (c.min !== undefined && m.value < c.min);
  });
}

describe('fuzz: random policies through validate → compile → decide', () => {
  it('validation never throws: a policy is either accepted or refused with one-line errors naming the file', () => {
    fc.assert(
      fc.property(spec, (body) => {
        const { policies, errors } = loadPolicies(policyText(body), 'fuzz.yaml');
        expect(policies.length + errors.length).toBeGreaterThan(0);
        for (const error of errors) {
          expect(error).toMatch(/^fuzz\.yaml(:\d+)?: /);
          expect(error).not.toContain('\n');
          expect(error).not.toContain('secret@');
        }
        if (policies.length > 0) expect(errors).toEqual([]);
      }),
      fuzzRuns(300),
    );
  });

  it('an accepted policy compiles, and decide never throws nor advances or promotes on unavailable or out-of-bounds data', async () => {
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(spec, fc.integer(), async (body, n) => {
        const { policies } = loadPolicies(policyText(body), 'fuzz.yaml');
        if (!policies[0]) return;
        accepted++;
        const compiled = compilePolicy(policies[0].policy);
        const snapshots = fc.sample(snapshotFor(compiled), { numRuns: 8, seed: n });
        for (const snapshot of snapshots) {
          const { action, reasons } = await decide(compiled, snapshot);
          expect(reasons.length).toBeGreaterThan(0);
          if (unavailableOrOutOfBounds(compiled, snapshot)) expect(['advance', 'promote']).not.toContain(action);
        }
      }),
      fuzzRuns(200),
    );
    // the generator is not all rubbish: a fair share of the cases reach compile and decide
    expect(accepted).toBeGreaterThan(10);
  });
});
