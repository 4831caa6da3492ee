import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadPolicies } from '../../../src/pipeline/policy/load.js';
import { MAX_BYTES } from '../../../src/pipeline/policy/read.js';
import { MAX_ALIASES, parseSource, readSource } from '../../../src/pipeline/policy/yaml.js';
import { fuzzRuns } from './settings.js';

const HEAD = 'apiVersion: kubestead.io/v1alpha1\nkind: RolloutPolicy\nmetadata: {name: t, namespace: ns}\n';
const key = fc.constantFrom('a', 'b', 'c', 'steps', 'weight', '<<', 'x y', '"q"');
const scalar = fc.constantFrom('1', '-1', '.nan', '.inf', '~', 'null', 'true', "'s'", '"d"', '1e999', '0x1f', '');

/** Random YAML text: nested block maps and flow lists, anchors and aliases (known or dangling), repeated keys. */
const yamlText = fc.letrec<{ node: string }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.constantFrom('*a1', '*a2', '*missing'),
    fc
      .tuple(fc.constantFrom('&a1 ', '&a2 ', ''), fc.array(tie('node'), { maxLength: 4 }))
      .map(([anchor, items]) => `${anchor}[${items.join(', ')}]`),
    fc
      .tuple(fc.constantFrom('&a1 ', '&a2 ', ''), fc.array(fc.tuple(key, tie('node')), { maxLength: 4 }))
      .map(([anchor, pairs]) => `${anchor}{${pairs.map(([k, v]) => `${k}: ${v}`).join(', ')}}`),
  ),
})).node;

describe('fuzz: random YAML through the policy reader', () => {
  it('never throws: a document is read or refused with one-line FILE:LINE errors', () => {
    fc.assert(
      fc.property(yamlText, fc.array(fc.tuple(key, yamlText), { maxLength: 5 }), (spec, extra) => {
        const text = `${HEAD}spec: ${spec}\n${extra.map(([k, v]) => `${k}: ${v}`).join('\n')}\n`;
        const { policies, errors } = loadPolicies(text, 'fuzz.yaml');
        expect(policies.length + errors.length).toBeGreaterThan(0);
        for (const error of errors) {
          expect(error).toMatch(/^fuzz\.yaml(:\d+)?: /);
          expect(error).not.toContain('\n');
        }
      }),
      fuzzRuns(400),
    );
  });

  it.each<[string, (n: number) => string]>([
    ['deep flow nesting', (n) => `${'['.repeat(n)}1${']'.repeat(n)}`],
    ['deep block nesting', (n) => Array.from({ length: n }, (_, i) => `${'  '.repeat(i)}k${i}:`).join('\n') + ' 1'],
    ['many duplicate keys', (n) => Array.from({ length: n }, () => 'dup: 1').join('\n')],
    [
      'an alias bomb (billion laughs)',
      (n) =>
        ['l0: &l0 [x, x, x, x, x, x, x, x, x, x]']
          .concat(
            Array.from({ length: Math.min(n, 12) }, (_, i) => `l${i + 1}: &l${i + 1} [${`*l${i}, `.repeat(9)}*l${i}]`),
          )
          .join('\n'),
    ],
  ])('%s: read, or refused with an error, never a crash or a hang', (_, build) => {
    for (const n of [10, 100, 1000]) {
      const text = `${HEAD}spec:\n  targetRef: {kind: Deployment, name: web}\n  steps: [{weight: 10}]\nx:\n${build(n)
        .split('\n')
        .map((l) => `  ${l}`)
        .join('\n')}\n`;
      const { policies, errors } = loadPolicies(text, 'shape.yaml');
      expect(policies.length + errors.length).toBeGreaterThan(0);
      for (const error of errors) expect(error).not.toContain('\n');
    }
  });

  it('aliases: a few are resolved, more than MAX_ALIASES refused before resolving (their lookup is quadratic)', () => {
    const aliases = (n: number) =>
      `${HEAD}spec:\n  targetRef: &t {kind: Deployment, name: web}\n  steps: [{weight: 10}]\n  interval: 10s\n` +
      `metadata2:\n${Array.from({ length: n }, (_, i) => `  r${i}: *t`).join('\n')}\n`;
    const within = parseSource(aliases(MAX_ALIASES / 2), 'aliases.yaml');
    expect(within.errors).toEqual([]);
    expect(within.documents).toHaveLength(1);
    expect(parseSource(aliases(MAX_ALIASES + 1), 'aliases.yaml').errors).toEqual([
      `aliases.yaml:1: (yaml): more than ${MAX_ALIASES} aliases in one document: refused`,
    ]);
    expect(parseSource(`${HEAD}spec: *nowhere\n`, 'dangling.yaml').errors[0]).toMatch(
      /^dangling\.yaml:\d+: \(yaml\): /,
    );
    expect(parseSource(`${HEAD}spec: {<<: 1}\n`, 'merge.yaml').errors[0]).toMatch(/^merge\.yaml:\d+: \(yaml\): /);
  });

  it('many duplicate keys are each reported, found in one pass', () => {
    const text = `${HEAD}spec:\n${Array.from({ length: 2000 }, () => '  dup: 1').join('\n')}\n`;
    const source = parseSource(text, 'dups.yaml');
    expect(source.errors.filter((e) => e.includes('duplicate key "dup"'))).toHaveLength(1999);
  });

  it('a policy over the size cap is refused at the cap with one error, before it is parsed', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'kubestead-fuzz-')), 'huge.yaml');
    await writeFile(file, `${HEAD}spec:\n${'  # padding\n'.repeat(Math.ceil(MAX_BYTES.policy / 12) + 10)}`);
    const source = await readSource(file, 'huge.yaml', 'policy');
    expect(source.documents).toEqual([]);
    expect(source.errors).toHaveLength(1);
    expect(source.errors[0]).toMatch(/MiB/);
  });
});
