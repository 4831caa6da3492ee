import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { rolloutPolicyCrd } from '../../src/pipeline/policy/crd.js';
import { CRD_FILE, crdYaml } from '../../src/tools/gen/crd.js';

type Schema = Record<string, unknown>;

/** Every node of a JSON schema, with its path. */
function* nodes(schema: unknown, path = '$'): Generator<[string, Schema]> {
  if (schema === null || typeof schema !== 'object') return;
  const node = schema as Schema;
  yield [path, node];
  for (const [key, child] of Object.entries(node.properties ?? {})) yield* nodes(child, `${path}.${key}`);
  if (node.items) yield* nodes(node.items, `${path}[]`);
  if (typeof node.additionalProperties === 'object') yield* nodes(node.additionalProperties, `${path}{}`);
}

describe('RolloutPolicy CRD', () => {
  it('the committed file is what `npm run gen` writes (run it after a schema change)', () => {
    expect(readFileSync(CRD_FILE, 'utf8')).toBe(crdYaml());
  });

  const crd = parse(crdYaml()) as { spec: { versions: Schema[]; names: Schema; group: string } };
  const version = crd.spec.versions[0]!;
  const schema = (version.schema as { openAPIV3Schema: Schema }).openAPIV3Schema;

  it('is structural: typed nodes, no unions, refs or additionalProperties:false', () => {
    for (const [path, node] of nodes(schema)) {
      const free = node['x-kubernetes-preserve-unknown-fields'] === true;
      expect(free || typeof node.type === 'string', `${path} has a type`).toBe(true);
      for (const banned of ['anyOf', 'oneOf', 'allOf', '$ref', 'default', 'const'])
        expect(node, `${path}.${banned}`).not.toHaveProperty(banned);
      expect(node.additionalProperties, `${path}.additionalProperties`).not.toBe(false);
      if (node.properties && node.additionalProperties)
        throw new Error(`${path}: properties and additionalProperties together`);
    }
  });

  it('has every field of the spec, the status subresource and the printer columns', () => {
    const spec = (schema.properties as Record<string, Schema>).spec!;
    expect(Object.keys(spec.properties as Schema).sort()).toEqual([
      'audit',
      'blueGreen',
      'canaryScale',
      'checks',
      'configTracking',
      'derived',
      'fastRevert',
      'interval',
      'mode',
      'notifications',
      'onMetricUnavailable',
      'podHealth',
      'providers',
      'rules',
      'steps',
      'strategy',
      'targetRef',
      'trafficRouting',
      'webhooks',
      'windows',
    ]);
    expect(version.subresources).toEqual({ status: {} });
    expect((version.additionalPrinterColumns as { name: string }[]).map((c) => c.name)).toEqual([
      'Phase',
      'Step',
      'Stage',
      'Weight',
      'Last decision',
      'Age',
    ]);
    expect(crd.spec.group).toBe('kubestead.io');
    expect(crd.spec.names.plural).toBe('rolloutpolicies');
    expect(rolloutPolicyCrd()).toEqual(parse(crdYaml()));
  });
});
