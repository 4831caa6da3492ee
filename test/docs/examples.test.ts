import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { loadPolicies } from '../../src/pipeline/policy/load.js';
import { ROOT } from '../helpers.js';
import { blocksOf, markdownFiles } from './blocks.js';

/**
 * Every runnable example of the docs runs here: each `bin/kubestead validate|test|eval|compile`
 * line of a ```sh block (exit 0, or the `# exit N` its comment says), and each ```yaml block
 * that holds a RolloutPolicy (valid, or, when its first line is `# expect: TEXT`, refused with
 * an error containing TEXT).
 */
const blocks = markdownFiles().flatMap(blocksOf);
const RUNNABLE = /^bin\/kubestead (validate|test|eval|compile)\b/;

const commands = blocks
  .filter((b) => ['sh', 'shell', 'bash', 'console'].includes(b.lang))
  .flatMap((b) => b.text.split('\n').map((line, i) => ({ where: `${b.file}:${b.line + 1 + i}`, line: line.trim() })))
  .filter(({ line }) => RUNNABLE.test(line))
  .map(({ where, line }) => {
    const [command = '', comment = ''] = line.split(/\s+#\s*/, 2);
    const exit = /^exit (\d)/.exec(comment)?.[1];
    return { where, command: command.trim(), exit: exit === undefined ? 0 : Number(exit) };
  });

const isPolicy = (text: string): boolean =>
  parseAllDocuments(text).some((d) => {
    const doc = d.toJSON() as { kind?: unknown; apiVersion?: unknown } | null;
    return doc?.kind === 'RolloutPolicy' && String(doc.apiVersion).startsWith('kubestead.io/');
  });
const policies = blocks.filter((b) => b.lang === 'yaml' && isPolicy(b.text));

function run(command: string): Promise<{ code: number; output: string }> {
  const args = command.replace(/^bin\/kubestead\s+/, '').split(/\s+/);
  return new Promise((done) => {
    execFile(process.execPath, [resolve(ROOT, 'bin/kubestead'), ...args], { cwd: ROOT }, (error, stdout, stderr) => {
      done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, output: stdout + stderr });
    });
  });
}

describe("the docs' examples", () => {
  it('finds the runnable examples', () => {
    expect(commands.length).toBeGreaterThanOrEqual(5);
    expect(policies.length).toBeGreaterThanOrEqual(3);
  });

  it.each(commands.map((c) => [c.where, c] as const))('%s runs', async (_, { command, exit }) => {
    const { code, output } = await run(command);
    expect(code, `${command}\n${output}`).toBe(exit);
  });

  it.each(policies.map((b) => [`${b.file}:${b.line}`, b] as const))(
    'the policy at %s validates as the docs say',
    (_, block) => {
      const expected = /^# expect: (.+)$/m.exec(block.text.split('\n')[0] ?? '')?.[1];
      const { errors } = loadPolicies(block.text, relative(ROOT, resolve(ROOT, block.file)));
      if (expected === undefined) expect(errors).toEqual([]);
      else expect(errors.join('\n')).toContain(expected);
    },
  );
});

describe('docs/troubleshooting.md', () => {
  /** Every source and fixture file's text, to look messages up in. */
  const corpus = ['src', 'fixtures']
    .flatMap((dir) =>
      readdirSync(resolve(ROOT, dir), { recursive: true, encoding: 'utf8' })
        .filter((f) => /\.(ts|ya?ml)$/.test(f))
        .map((f) => readFileSync(resolve(ROOT, dir, f), 'utf8')),
    )
    .join('\n');
  const headings = readFileSync(resolve(ROOT, 'docs/troubleshooting.md'), 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('### '));
  const messages = headings.flatMap((h) => [...h.matchAll(/`([^`]+)`/g)].map((m) => m[1]!));

  it('has a section per message', () => {
    expect(headings.length).toBeGreaterThanOrEqual(15);
    expect(messages.length).toBeGreaterThanOrEqual(headings.length);
  });

  it.each(messages)('"%s" is a message the code or the fixtures really print', (message) => {
    expect(corpus).toContain(message);
  });
});
