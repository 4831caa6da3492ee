import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { boundsOf, policyFields, statusFields, typeOf } from '../../src/tools/reference/fields.js';
import { POLICY_REFERENCE_FILE } from '../../src/tools/gen/reference.js';
import { MISSING, policyReference } from '../../src/tools/reference/policy-reference.js';
import { commands } from '../../src/tools/cli/commands.js';

describe('docs/reference/policy.md (generated from the schema)', () => {
  const fields = [...policyFields(), ...statusFields()];

  it('the committed file is what `npm run gen` writes (run it after a schema change)', () => {
    expect(readFileSync(POLICY_REFERENCE_FILE, 'utf8')).toBe(policyReference());
  });

  it('describes every field of the schema, spec and status (one source: the schema)', () => {
    expect(fields.filter((f) => !f.description).map((f) => f.path)).toEqual([]);
    expect(policyReference()).not.toContain(MISSING);
    expect(fields.map((f) => f.path)).toEqual(expect.arrayContaining(['status.phase', 'status.checks.<name>.max']));
  });

  it('gives every leaf field an example', () => {
    const leaves = fields.filter((f) => !['object', 'list'].includes(f.type) && !f.path.endsWith('[]'));
    expect(leaves.filter((f) => !f.example).map((f) => f.path)).toEqual([]);
  });

  it.each([
    ['spec.providers.<name>.datadog.apiKeySecretRef', /datadog/],
    ['spec.providers.<name>.datadog.appKeySecretRef', /app-key/],
    ['spec.providers.<name>.newRelic.apiKeySecretRef', /newrelic/],
    ['spec.providers.<name>.prometheus.caSecretRef', /ca/],
    ['spec.notifications[].slack.urlSecretRef', /slack/],
    ['spec.notifications[].webhook.secretRef', /signing/],
  ])('gives the Secret reference %s an example that fits it', (path, fits) => {
    const field = fields.find((f) => f.path === path);
    expect(field?.example).toMatch(fits);
    expect(field?.example).not.toContain('prometheus-auth');
  });

  it('kubestead validate --help lists the fields of spec with the same descriptions', () => {
    const help = commands.validate!.help;
    for (const field of fields.filter((f) => /^spec\.[A-Za-z]+$/.test(f.path))) {
      const first = /^.*?\.(?=\s|$)/.exec(field.description!)?.[0] ?? field.description!;
      expect(help).toMatch(
        new RegExp(`^ {2}${field.path.slice(5)} +${first.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'),
      );
    }
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
