import type { PolicyIssue } from './issues.js';
import { isObj, list, type Obj } from './objects.js';

/** A MetricDataQuery Id: a lower-case letter, then letters, digits and `_` (AWS's rule). */
const ID = /^[a-z][A-Za-z0-9_]*$/;

/**
 * A CloudWatch check's query is its MetricDataQueries: a JSON list of objects (placeholders inside strings), each with
 * a unique Id; a `value` that is a bare name names one of them (docs/checks.md, "CloudWatch").
 */
export function cloudWatchQueryIssues(spec: Obj): PolicyIssue[] {
  const providers = isObj(spec.providers) ? spec.providers : {};
  return list(spec.checks).flatMap((check, index) => {
    if (!isObj(check) || typeof check.query !== 'string' || typeof check.provider !== 'string') return [];
    const provider = providers[check.provider];
    if (!isObj(provider) || !isObj(provider.cloudWatch)) return [];
    return queryIssues(check, ['spec', 'checks', index]);
  });
}

function queryIssues(check: Obj, at: (string | number)[]): PolicyIssue[] {
  const issue = (field: string, message: string): PolicyIssue[] => [{ path: [...at, field], message }];
  let parsed: unknown;
  try {
    parsed = JSON.parse(String(check.query).replace(/\{\{[^}]*\}\}/g, 'x'));
  } catch (error) {
    return issue(
      'query',
      `a CloudWatch check's query is its MetricDataQueries as JSON (placeholders inside strings): ${(error as Error).message}`,
    );
  }
  const queries = Array.isArray(parsed) ? parsed : [parsed];
  if (queries.length === 0) return issue('query', 'the MetricDataQueries list is empty');
  const ids: string[] = [];
  for (const [i, query] of queries.entries()) {
    const id = isObj(query) ? query.Id : undefined;
    if (typeof id !== 'string' || !ID.test(id))
      return issue('query', `MetricDataQueries[${i}] needs an Id: a lower-case letter, then letters, digits or _`);
    if (ids.includes(id)) return issue('query', `MetricDataQueries[${i}]: duplicate Id "${id}"`);
    ids.push(id);
  }
  const value = check.value;
  if (typeof value === 'string' && ID.test(value) && !ids.includes(value))
    return issue('value', `"${value}" is no Id of the check's MetricDataQueries (${ids.join(', ')})`);
  return [];
}
