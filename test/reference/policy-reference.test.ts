import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { boundsOf, policyFields, typeOf } from '../../src/tools/reference/fields.js';
import { POLICY_REFERENCE_FILE } from '../../src/tools/gen/reference.js';
import { POLICY_DOCS } from '../../src/tools/reference/policy-docs.js';
import { MISSING, policyReference } from '../../src/tools/reference/policy-reference.js';

describe('docs/reference/policy.md (generated from the schema)', () => {
  const fields = policyFields();
  const paths = fields.map((f) => f.path);

  it('the committed file is what `npm run gen` writes (run it after a schema change)', () => {
    expect(readFileSync(POLICY_REFERENCE_FILE, 'utf8')).toBe(policyReference());
  });

  it('documents every field of the schema, and nothing the schema lacks', () => {
    expect(paths.filter((p) => !POLICY_DOCS[p])).toEqual([]);
    expect(Object.keys(POLICY_DOCS).filter((p) => !paths.includes(p))).toEqual([]);
    expect(policyReference()).not.toContain(MISSING);
  });

  it('gives every leaf field an example', () => {
    const leaves = fields.filter((f) => !['object', 'list'].includes(f.type) && !f.path.endsWith('[]'));
    expect(leaves.filter((f) => !POLICY_DOCS[f.path]?.example).map((f) => f.path)).toEqual([]);
  });

  it("shows the schema's defaults and bounds", () => {
    const text = policyReference();
    const line = (path: string) => text.split('\n').find((l) => l.startsWith(`| \`${path}\` |`)) ?? '';
    expect(line('spec.interval')).toContain('`"30s"`');
    expect(line('spec.steps[].weight')).toContain('> 0, ≤ 100');
    expect(line('spec.podHealth.maxRestarts')).toMatch(/\| `3` \| ≥ 0 \|/);
    expect(line('spec.podHealth.maxWarningEvents')).toContain('integer or null');
    expect(line('spec.providers.<name>.datadog.site')).toContain('`ddog-gov.com`');
    expect(line('spec.targetRef.name')).toContain('(required)');
    expect(line('spec.steps[].match')).toContain('at least 1 item, at most 8 items');
    expect(line('spec.blueGreen.scaleDownDelay')).toContain('`"30s"` | ≥ 0s, ≤ 24h');
    expect(line('spec.interval')).toContain('≥ 1s, ≤ 1h');
  });

  it.each([
    [{ type: 'string', pattern: '^x+$' }, 'string matching `^x+$`'],
    [{ anyOf: [{ type: 'number' }, { type: 'null' }] }, 'number or null'],
    [{ type: 'string', enum: ['a', 'b'] }, 'one of `a`, `b`'],
    [{ type: 'object', properties: { name: {}, key: {} } }, 'Secret reference `{name, key}` (in the policy namespace)'],
    [{ $ref: '#/x' }, 'condition (`all` / `any` / `not` of `{fact, path, operator, value}`)'],
    [{}, 'any'],
  ])('names the type of %j', (node, words) => {
    expect(typeOf(node)).toBe(words);
  });

  it.each([
    [{ type: 'number', minimum: 1, exclusiveMaximum: 5 }, ['≥ 1', '< 5']],
    [{ type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER }, ['≥ 0']],
    [{ type: 'string', minLength: 1, maxLength: 63 }, ['at least 1 character', 'at most 63 characters']],
    [{ anyOf: [{ type: 'integer', minimum: 2 }, { type: 'null' }] }, ['≥ 2']],
  ])('words the bounds of %j', (node, words) => {
    expect(boundsOf(node)).toEqual(words);
  });
});
