import { BUILTIN_RULES } from '../../pipeline/policy/vocabulary.js';
import type { PolicyIssue } from '../../pipeline/policy/issues.js';
import { isObj } from '../../pipeline/policy/objects.js';
import type { PolicySpec } from '../../pipeline/policy/schema.js';
import { closest } from '../../pipeline/policy/strict.js';
import type { TestFile } from './testfile.js';

/**
 * Mistakes in a test file that would make a case pass or fail for the wrong reason: two cases of
 * one name, inline facts for a check or derived fact the policy does not have (they would be
 * silently dropped), and expected reasons that no decision of this policy can give.
 */
export function testFileIssues(test: TestFile, spec: PolicySpec): PolicyIssue[] {
  const checks = spec.checks.map((c) => c.name);
  const reasons = [...checks, ...BUILTIN_RULES, ...spec.rules.map((r) => r.name)];
  const firstByName = new Map<string, number>();
  return test.cases.flatMap((testCase, index) => {
    const at = (...rest: (string | number)[]) => ['cases', index, ...rest];
    const issues: PolicyIssue[] = [];
    const first = firstByName.get(testCase.name);
    if (first !== undefined)
      issues.push({ path: at('name'), message: `duplicate case name "${testCase.name}" (first at cases[${first}])` });
    else firstByName.set(testCase.name, index);
    if (isObj(testCase.facts)) {
      issues.push(...unknownKeys(testCase.facts.checks, checks, 'check', at('facts', 'checks')));
      issues.push(
        ...unknownKeys(testCase.facts.derived, Object.keys(spec.derived), 'derived fact', at('facts', 'derived')),
      );
    }
    testCase.expect.reasons.forEach((reason, i) => {
      if (!reasons.includes(reason))
        issues.push({
          path: at('expect', 'reasons', i),
          message: `${JSON.stringify(reason)} is no check or rule of the policy${hint(reason, reasons)}`,
        });
    });
    return issues;
  });
}

function unknownKeys(map: unknown, known: readonly string[], what: string, path: (string | number)[]): PolicyIssue[] {
  if (!isObj(map)) return [];
  return Object.keys(map)
    .filter((key) => !known.includes(key))
    .map((key) => ({ path: [...path, key], message: `the policy has no ${what} "${key}"${hint(key, known)}` }));
}

function hint(name: string, known: readonly string[]): string {
  const near = closest(name, known);
  return near ? ` (did you mean "${near}"?)` : '';
}
