import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { runTestFile, type CaseResult, type FileResult } from '../policytest/run.js';
import type { Command } from './commands.js';
import { formatDecision } from './eval.js';

export const testCommand: Command = {
  summary: 'run policy test files (*.test.yaml) against fixture facts',
  help: `Usage: kubestead test [PATH...]

Runs every *.test.yaml file given, or found below the given folders (default: .).
A case names a snapshot file (relative to the test file) or an inline partial snapshot,
merged over a healthy default (docs/policy-tests.md), and expects an action and the
checks or rules among its reasons. A file with expectErrors checks that its policy is
rejected with exactly those error lines. Ends with the line "N passed, N failed".
Exit codes: 0 all passed, 1 a case failed, 2 bad input (a test file or policy unreadable).`,
  async run(args) {
    const files = (await Promise.all((args.length ? args : ['.']).map(findTestFiles))).flat();
    let passed = 0;
    let failed = 0;
    let badInput = false;
    for (const file of files) {
      const result = await runTestFile(file);
      process.stdout.write(formatFileResult(result));
      passed += result.cases.filter((c) => c.passed).length;
      failed += result.cases.filter((c) => !c.passed).length + (result.errors.length ? 1 : 0);
      badInput ||= result.errors.length > 0 || result.cases.some((c) => !c.passed && !c.decision && c.name !== 'policy errors');
    }
    if (files.length === 0) process.stdout.write('no *.test.yaml files found\n');
    process.stdout.write(`${passed} passed, ${failed} failed\n`);
    return badInput || files.length === 0 ? 2 : failed > 0 ? 1 : 0;
  },
};

async function findTestFiles(path: string): Promise<string[]> {
  const info = await stat(path).catch(() => null);
  if (!info) return [path]; // reported as unreadable by the runner
  if (!info.isDirectory()) return [path];
  const entries = await readdir(path, { withFileTypes: true });
  const nested = await Promise.all(
    entries
      .filter((e) => e.name !== 'node_modules' && !e.name.startsWith('.'))
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((e) => (e.isDirectory() ? findTestFiles(join(path, e.name)) : Promise.resolve(e.name.endsWith('.test.yaml') ? [join(path, e.name)] : []))),
  );
  return nested.flat();
}

function formatFileResult(result: FileResult): string {
  const lines = [result.file];
  for (const error of result.errors) lines.push(`  ✗ ${error}`);
  for (const c of result.cases) lines.push(...formatCase(c));
  return `${lines.join('\n')}\n`;
}

function formatCase(c: CaseResult): string[] {
  if (c.passed) return [`  ✓ ${c.name}`];
  const lines = [`  ✗ ${c.name}`, `      expected: ${c.expected}`];
  if (c.decision) lines.push(`      got:      ${formatDecision(c.decision).trimEnd().split('\n').join('\n                ')}`);
  for (const problem of c.problems ?? []) lines.push(`      ${problem}`);
  return lines;
}
