import { dirname, resolve } from 'node:path';
import { compilePolicy, type CompiledPolicy } from '../../pipeline/compile/compile.js';
import { decide } from '../../pipeline/decide/decide.js';
import type { Decision } from '../../pipeline/decide/decision.js';
import { loadSnapshotFile } from '../../pipeline/facts/load.js';
import { SnapshotError } from '../../pipeline/facts/snapshot.js';
import { loadPolicyFile } from '../../pipeline/policy/load.js';
import { issueLines, type SourceDocument } from '../../pipeline/policy/yaml.js';
import { defaultSnapshot, mergeSnapshot } from './defaults.js';
import { testFileIssues } from './typos.js';
import { loadTestFile, type TestCase, type TestFile } from './testfile.js';
import { stepCount } from '../../pipeline/policy/strategies.js';

export interface CaseResult {
  name: string;
  passed: boolean;
  /** What was expected, as a person reads it. */
  expected: string;
  decision?: Decision;
  /** The policy's step count, for showing the decision's steps as people read them. */
  stepCount?: number;
  /** Why the case could not run, or the error lines that differ. */
  problems?: string[];
}

export interface FileResult {
  file: string;
  cases: CaseResult[];
  /** Bad input: the test file or its policy could not be read. */
  errors: string[];
}

export async function runTestFile(file: string): Promise<FileResult> {
  const loaded = await loadTestFile(file);
  if ('errors' in loaded) return { file, cases: [], errors: loaded.errors };
  const { test, doc } = loaded;
  const policyPath = resolve(dirname(file), test.policy);
  const { policies, errors } = await loadPolicyFile(policyPath, test.policy);
  if (test.expectErrors) return { file, cases: [compareErrors(test.expectErrors, errors)], errors: [] };
  const policy = policies[0];
  if (errors.length > 0 || !policy || policies.length > 1) {
    return { file, cases: [], errors: errors.length ? errors : [`${test.policy}: expected exactly one RolloutPolicy`] };
  }
  const typos = testFileIssues(test, policy.policy.spec);
  if (typos.length > 0) return { file, cases: [], errors: issueLines(file, doc, typos) };
  const compiled = compilePolicy(policy.policy);
  const cases: CaseResult[] = [];
  for (const [index, testCase] of test.cases.entries())
    cases.push(await runCase(compiled, testCase, { file, doc, index }));
  return { file, cases, errors: [] };
}

function compareErrors(expected: string[], actual: string[]): CaseResult {
  const missing = expected.filter((line) => !actual.includes(line)).map((line) => `missing: ${line}`);
  const extra = actual.filter((line) => !expected.includes(line)).map((line) => `unexpected: ${line}`);
  const problems = [...missing, ...extra];
  return {
    name: 'policy errors',
    passed: problems.length === 0,
    expected: `${expected.length} error line(s)`,
    problems,
  };
}

interface CaseSource {
  file: string;
  doc: SourceDocument;
  index: number;
}

async function runCase(compiled: CompiledPolicy, testCase: TestCase, source: CaseSource): Promise<CaseResult> {
  const { action, reasons } = testCase.expect;
  const expected = `${action}${reasons.length ? ` [${reasons.join(', ')}]` : ''}`;
  const facts = await caseFacts(compiled, testCase, source);
  if ('problems' in facts) return { name: testCase.name, passed: false, expected, problems: facts.problems };
  try {
    const decision = await decide(compiled, facts.snapshot);
    const names = new Set(decision.reasons.flatMap((r) => (r.check ? [r.rule, r.check] : [r.rule])));
    const passed = decision.action === testCase.expect.action && testCase.expect.reasons.every((r) => names.has(r));
    return { name: testCase.name, passed, expected, decision, stepCount: stepCount(compiled.spec) };
  } catch (error) {
    if (!(error instanceof SnapshotError)) throw error;
    const prefix = ['cases', source.index, 'facts'];
    const located = error.issues.map((i) => ({ ...i, path: [...prefix, ...i.path] }));
    return { name: testCase.name, passed: false, expected, problems: issueLines(source.file, source.doc, located) };
  }
}

async function caseFacts(
  compiled: CompiledPolicy,
  testCase: TestCase,
  source: CaseSource,
): Promise<{ snapshot: unknown } | { problems: string[] }> {
  if (typeof testCase.facts === 'string') {
    const loaded = await loadSnapshotFile(resolve(dirname(source.file), testCase.facts));
    return 'errors' in loaded ? { problems: loaded.errors } : loaded;
  }
  const rollout = testCase.facts.rollout as { step?: unknown } | undefined;
  const step = typeof rollout?.step === 'number' ? rollout.step : 0;
  return { snapshot: mergeSnapshot(defaultSnapshot(compiled.spec, step), testCase.facts) };
}

export type { TestFile };
