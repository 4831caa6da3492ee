import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { runTestFile } from '../../src/tools/policytest/run.js';
import { ROOT } from '../helpers.js';
import { blocksOf, markdownFiles } from './blocks.js';

/**
 * Every policy test file shown in the docs (a ```yaml block with `policy:` and `cases:` or
 * `expectErrors:`) runs as written against the repository's fixtures: a file of cases from
 * tests/ (so `../policies/…` and `../snapshots/…` resolve), a file of expected errors beside the
 * invalid policies it names. Every case must pass.
 */
const testFiles = markdownFiles()
  .flatMap(blocksOf)
  .filter((b) => {
    if (b.lang !== 'yaml') return false;
    const docs = parseAllDocuments(b.text);
    if (!Array.isArray(docs) || docs.length !== 1) return false;
    const doc = docs[0]?.toJS() as Record<string, unknown> | null;
    return typeof doc?.policy === 'string' && ('cases' in doc || 'expectErrors' in doc);
  });
const expectsErrors = (text: string): boolean => /^expectErrors:/m.test(text);

describe('policy test files in the docs', () => {
  // The fixtures' layout in a temporary folder, by symlinks: nothing is written into fixtures/.
  let root = '';
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'kubestead-doc-tests-'));
    for (const folder of ['policies', 'snapshots']) symlinkSync(resolve(ROOT, 'fixtures', folder), join(root, folder));
    mkdirSync(join(root, 'tests'));
    mkdirSync(join(root, 'invalid'));
    for (const file of readdirSync(resolve(ROOT, 'fixtures/invalid')))
      symlinkSync(resolve(ROOT, 'fixtures/invalid', file), join(root, 'invalid', file));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('are found: files of cases and of expected errors', () => {
    expect(new Set(testFiles.map((b) => b.file))).toEqual(
      new Set(['docs/architecture.md', 'docs/policy-tests.md', 'docs/webhooks.md']),
    );
    expect(testFiles.filter((b) => expectsErrors(b.text))).toHaveLength(1);
  });

  it.each(testFiles.map((b, i) => [`${b.file}:${b.line}`, b, i] as const))(
    '%s runs as written and passes',
    async (_where, block, index) => {
      const file = join(root, expectsErrors(block.text) ? 'invalid' : 'tests', `doc-${index}.test.yaml`);
      writeFileSync(file, block.text);
      const result = await runTestFile(file);
      expect(result.errors).toEqual([]);
      expect(result.cases.length).toBeGreaterThan(0);
      expect(result.cases.filter((c) => !c.passed)).toEqual([]);
    },
  );
});
