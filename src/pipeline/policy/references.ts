import jsonata from 'jsonata';
import { analyse, type RootPath } from '../../lib/jsonata/analysis.js';
import { factPathProblem, type PolicyNames } from './fact-paths.js';
import type { PolicyIssue } from './issues.js';
import { isObj, list, type Obj } from './objects.js';
import { STEP_PLACEHOLDER } from './vocabulary.js';

type Path = (string | number)[];

/**
 * Static checks of what a policy reads: every path of a custom rule and of a derived expression
 * must name something the snapshot can have (a check or derived fact of this policy, a field of
 * the snapshot schema), so that a rule never silently reads nothing and never fires. Jsonata that
 * is knowably unbounded (recursion, huge ranges) is refused here too.
 */
export function referenceIssues(spec: Obj): PolicyIssue[] {
  const names: PolicyNames = {
    checks: list(spec.checks).flatMap((c) => (isObj(c) && typeof c.name === 'string' ? [c.name] : [])),
    derived: isObj(spec.derived) ? Object.keys(spec.derived) : [],
  };
  const rules = list(spec.rules).flatMap((rule, index) =>
    isObj(rule)
      ? [
          ...conditionIssues(rule.when, ['spec', 'rules', index, 'when'], names),
          ...messageIssues(rule.message, ['spec', 'rules', index, 'message'], names),
        ]
      : [],
  );
  return [...derivedIssues(spec, names), ...rules];
}

/** Parses a jsonata expression: its syntax error as an issue, or the compiled expression. */
export function parseJsonata(text: string, path: Path): { expression: jsonata.Expression } | { issue: PolicyIssue } {
  try {
    return { expression: jsonata(text) };
  } catch (error) {
    const detail = error as { message?: string; position?: number };
    const at = detail.position !== undefined ? ` (at character ${detail.position})` : '';
    return { issue: { path, message: `invalid jsonata expression: ${detail.message ?? String(error)}${at}` } };
  }
}

/**
 * A check's `value` expression: valid, and not knowably unbounded (it reads the provider's answer, so no path checks).
 */
export function valueExpressionIssues(text: string, path: Path): PolicyIssue[] {
  const parsed = parseJsonata(text, path);
  if ('issue' in parsed) return [parsed.issue];
  return analyse(parsed.expression).problems.map((message) => ({ path, message }));
}

function derivedIssues(spec: Obj, names: PolicyNames): PolicyIssue[] {
  if (!isObj(spec.derived)) return [];
  return Object.entries(spec.derived).flatMap(([key, text]) => {
    if (typeof text !== 'string') return [];
    const path = ['spec', 'derived', key];
    const parsed = parseJsonata(text, path);
    if ('issue' in parsed) return [parsed.issue];
    const { problems, rootPaths } = analyse(parsed.expression);
    const messages = [...problems, ...rootPaths.flatMap((p) => derivedPathProblems(p, names))];
    return [...new Set(messages)].map((message) => ({ path, message }));
  });
}

function derivedPathProblems(root: RootPath, names: PolicyNames): string[] {
  const text = root.segments.join('.');
  if (root.hyphenated && factPathProblem(root.hyphenated, names) === null) {
    const quoted = root.hyphenated.map((s) => (/^[A-Za-z_$][\w$]*$/.test(s) || s === '*' ? s : `\`${s}\``)).join('.');
    return [
      `${root.hyphenated.join('.')} reads as a subtraction (${text} minus …); a name with "-" needs backquotes: ` +
        `${quoted}`,
    ];
  }
  if (root.segments[0] === 'derived') {
    return [`${text}: a derived fact cannot read another (they are all computed from the same snapshot)`];
  }
  const problem = factPathProblem(root.segments, names);
  return problem ? [`${text}: ${problem}`] : [];
}

function conditionIssues(condition: unknown, path: Path, names: PolicyNames): PolicyIssue[] {
  if (!isObj(condition)) return [];
  for (const form of ['all', 'any'] as const) {
    if (Array.isArray(condition[form])) {
      return condition[form].flatMap((child, i) => conditionIssues(child, [...path, form, i], names));
    }
  }
  if (condition.not !== undefined) return conditionIssues(condition.not, [...path, 'not'], names);
  if (typeof condition.fact !== 'string') return [];
  const segments = [condition.fact, ...pathSegments(condition.path)];
  const problem = factPathProblem(segments, names);
  return problem ? [{ path: [...path, condition.path === undefined ? 'fact' : 'path'], message: problem }] : [];
}

/** `$.a.b[0]` → a, b, 0. */
function pathSegments(path: unknown): string[] {
  if (typeof path !== 'string') return [];
  return path
    .replace(/^\$\.?/, '')
    .split(/\.|\[(\d+)\]/)
    .filter((p): p is string => p !== undefined && p !== '');
}

/** `{checks.error-rate.value}` in a custom rule's message: each placeholder must name something of the snapshot. */
function messageIssues(message: unknown, path: Path, names: PolicyNames): PolicyIssue[] {
  if (typeof message !== 'string') return [];
  return [...message.matchAll(/\{([\w.-]+)\}/g)].flatMap(([, placeholder = '']) => {
    if (placeholder === STEP_PLACEHOLDER) return [];
    const problem = factPathProblem(placeholder.split('.'), names);
    return problem ? [{ path, message: `{${placeholder}}: ${problem}` }] : [];
  });
}
