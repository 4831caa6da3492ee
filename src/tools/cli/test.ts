import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { defaultSnapshot } from '../../pipeline/decide/default-snapshot.js';
import { runTestFile, type CaseResult, type FileResult } from '../policytest/run.js';
import { defineCommand } from './define.js';
import { formatDecision } from './eval.js';
import { loadOnePolicy, NAME_OPTION } from './load-one.js';
import { UsageError } from './usage-error.js';
import { stepCount } from '../../pipeline/policy/strategies.js';

export const testCommand = defineCommand({
  name: 'test',
  summary: 'run policy test files (*.test.yaml) against fixture facts',
  usage: '[PATH...] | --print-default-snapshot POLICY [--step N]',
  description: `Runs every file given, and every *.test.yaml found below the folders given (default: the
current folder; node_modules and dot-folders are skipped). A case names a snapshot file
(relative to the test file) or an inline partial snapshot, merged over a healthy default
(docs/policy-tests.md), and expects an action and the checks or rules among its reasons.
A file with expectErrors checks that its policy is rejected with exactly those error lines.
Ends with the line "N passed, N failed".

--print-default-snapshot prints, as JSON, the snapshot inline facts of POLICY merge onto.`,
  options: {
    'print-default-snapshot': {
      type: 'boolean',
      description: 'print the default snapshot of the POLICY given, and run nothing',
    },
    step: { type: 'string', value: 'N', description: 'with --print-default-snapshot: the step (default 0)' },
    name: NAME_OPTION,
  },
  exitCodes: ['0  every case passed', '1  a case failed'],
  async run({ values, positionals }) {
    if (values['print-default-snapshot']) return printDefaultSnapshot(positionals, values.step, values.name);
    if (values.step !== undefined) throw new UsageError('--step goes with --print-default-snapshot');
    return runTests(positionals.length ? positionals : ['.']);
  },
});

async function printDefaultSnapshot(
  positionals: string[],
  step: string | undefined,
  name: string | undefined,
): Promise<number> {
  const [file, ...extra] = positionals;
  if (!file || extra.length) throw new UsageError('--print-default-snapshot needs exactly one POLICY file');
  const index = step === undefined ? 0 : Number(step);
  if (!Number.isInteger(index) || index < 0)
    throw new UsageError(`--step: expected a step index (0, 1, …), got ${JSON.stringify(step)}`);
  const loaded = await loadOnePolicy(file, name);
  if ('errors' in loaded) {
    process.stderr.write(`${loaded.errors.join('\n')}\n`);
    return 2;
  }
  if (index >= stepCount(loaded.policy.spec))
    throw new UsageError(`--step ${index}: the policy has ${stepCount(loaded.policy.spec)} step(s)`);
  process.stdout.write(`${JSON.stringify(defaultSnapshot(loaded.policy.spec, index), null, 2)}\n`);
  return 0;
}

async function runTests(paths: string[]): Promise<number> {
  const files = (await Promise.all(paths.map(findTestFiles))).flat();
  let passed = 0;
  let failed = 0;
  let badInput = false;
  for (const file of files) {
    const result = await runTestFile(file);
    process.stdout.write(formatFileResult(result));
    passed += result.cases.filter((c) => c.passed).length;
    failed += result.cases.filter((c) => !c.passed).length + (result.errors.length ? 1 : 0);
    badInput ||=
      result.errors.length > 0 || result.cases.some((c) => !c.passed && !c.decision && c.name !== 'policy errors');
  }
  if (files.length === 0) process.stdout.write(`no *.test.yaml files found below ${paths.join(', ')}\n`);
  process.stdout.write(`${passed} passed, ${failed} failed\n`);
  return badInput || files.length === 0 ? 2 : failed > 0 ? 1 : 0;
}

async function findTestFiles(path: string): Promise<string[]> {
  const info = await stat(path).catch(() => null);
  if (!info?.isDirectory()) return [path]; // a file runs whatever its name; a missing one is reported by the runner
  const entries = await readdir(path, { withFileTypes: true });
  const nested = await Promise.all(
    entries
      .filter((e) => e.name !== 'node_modules' && !e.name.startsWith('.'))
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((e) =>
        e.isDirectory()
          ? findTestFiles(join(path, e.name))
          : Promise.resolve(e.name.endsWith('.test.yaml') ? [join(path, e.name)] : []),
      ),
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
  if (c.decision)
    lines.push(
      `      got:      ${formatDecision(c.decision, c.stepCount).trimEnd().split('\n').join('\n                ')}`,
    );
  for (const problem of c.problems ?? []) lines.push(`      ${problem}`);
  return lines;
}
