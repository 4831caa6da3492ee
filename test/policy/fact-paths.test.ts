import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { compilePolicy } from '../../src/pipeline/compile/compile.js';
import { decide } from '../../src/pipeline/decide/decide.js';
import { snapshotSchema } from '../../src/pipeline/facts/snapshot.js';
import { MEASUREMENT_SHAPE, SNAPSHOT_SHAPE, type FactShape } from '../../src/pipeline/policy/fact-paths.js';
import { loadPolicies } from '../../src/pipeline/policy/load.js';
import { defaultSnapshot, mergeSnapshot } from '../../src/tools/policytest/defaults.js';
import { policyYaml } from '../helpers.js';

/** The field names of a zod object schema, at a path (optional/nullable/default unwrapped). */
function keysAt(schema: z.ZodType, path: string[]): string[] {
  let node: z.ZodType = schema;
  for (const key of path) {
    const shape = (node as z.ZodObject).shape as Record<string, z.ZodType>;
    node = shape[key]!;
  }
  return Object.keys((node as z.ZodObject).shape).sort();
}

const shapeKeys = (shape: FactShape): string[] => (typeof shape === 'object' ? Object.keys(shape).sort() : []);

describe('the fact paths validate checks against are the snapshot schema', () => {
  it.each([[[]], [['rollout']], [['rollout', 'canary']], [['rollout', 'stable']], [['kube']]])(
    'at %j',
    (path: string[]) => {
      let shape: FactShape = SNAPSHOT_SHAPE;
      for (const key of path) shape = (shape as Record<string, FactShape>)[key]!;
      expect(shapeKeys(shape)).toEqual(keysAt(snapshotSchema, path));
    },
  );

  it('a measurement: every field of the schema', () => {
    const measurement = (snapshotSchema.shape.checks as unknown as { valueType: z.ZodObject }).valueType;
    expect(Object.keys(MEASUREMENT_SHAPE)).toEqual(expect.arrayContaining(Object.keys(measurement.shape)));
  });
});

describe('a custom rule says why, with values', () => {
  it('fills {…} in its message from the snapshot', async () => {
    const yaml = policyYaml(`targetRef: {kind: Deployment, name: web}
steps: [{weight: 10}]
providers: {prom: {prometheus: {address: "http://prom:9090"}}}
checks: [{name: request-rate, provider: prom, query: up, min: 0}]
derived: {rps: "checks.\`request-rate\`.value"}
rules:
  - name: low-traffic
    when: {fact: derived, path: "$.rps", operator: lessThan, value: 50}
    then: hold
    message: "only {derived.rps} requests/s at {rollout.weight}% (check {checks.request-rate.value}); waiting for 50"`);
    const { policies, errors } = loadPolicies(yaml, 'p.yaml');
    expect(errors).toEqual([]);
    const compiled = compilePolicy(policies[0]!.policy);
    const decision = await decide(
      compiled,
      mergeSnapshot(defaultSnapshot(compiled.spec, 0), { checks: { 'request-rate': { value: 12.5 } } }),
    );
    expect(decision.action).toBe('hold');
    expect(decision.reasons[0]).toEqual({
      rule: 'low-traffic',
      message: 'only 12.5 requests/s at 10% (check 12.5); waiting for 50',
    });
  });
});
