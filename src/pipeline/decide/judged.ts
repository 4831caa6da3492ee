import type { FactSnapshot } from '../facts/snapshot.js';
import { verdictOf } from '../facts/verdict.js';
import type { PolicyIssue } from '../policy/issues.js';
import type { CheckSpec, PolicySpec } from '../policy/schema.js';

/**
 * A check's verdict and run of failures, where a snapshot gives them, must be what its value says (a `kubestead test`
 * case that sets `verdict: fail` on an in-bounds value tests nothing): the verdict that of verdictOf, a failing
 * measurement counting itself (at least 1), one in bounds or inconclusive ending the run (0).
 */
export function judgedIssues(spec: PolicySpec, snapshot: FactSnapshot): PolicyIssue[] {
  return spec.checks.flatMap((check) => {
    const m = snapshot.checks[check.name];
    if (!m || (m.verdict === undefined && m.consecutiveFailures === undefined)) return [];
    const verdict = verdictOf(check, m);
    const at = (field: string) => ['checks', check.name, field];
    const issues: PolicyIssue[] = [];
    if (m.verdict !== undefined && m.verdict !== verdict)
      issues.push({ path: at('verdict'), message: `is ${m.verdict}, but value ${String(m.value)} is ${verdict}` });
    const count = m.consecutiveFailures;
    if (count === 0 && verdict === 'fail')
      issues.push({ path: at('consecutiveFailures'), message: 'is 0, but this measurement fails (it counts itself)' });
    if (count !== undefined && count > 0 && (verdict === 'pass' || verdict === 'inconclusive'))
      issues.push({
        path: at('consecutiveFailures'),
        message: `is ${count}, but a ${verdict} measurement ends the run`,
      });
    return issues;
  });
}

const limited = (check: CheckSpec): boolean => (check.failureLimit ?? 0) > 0;

/**
 * The snapshot with a run of failures for each check with a failureLimit that lacks one: 1 for a failing value (a
 * snapshot alone knows of no earlier failure), else 0. The controller's snapshots carry it (no copy then).
 */
export function withFailureCounts(spec: PolicySpec, snapshot: FactSnapshot): FactSnapshot {
  const missing = spec.checks.filter((c) => limited(c) && snapshot.checks[c.name]?.consecutiveFailures === undefined);
  if (missing.length === 0) return snapshot;
  const checks = { ...snapshot.checks };
  for (const check of missing) {
    const m = checks[check.name];
    if (m) checks[check.name] = { ...m, consecutiveFailures: verdictOf(check, m) === 'fail' ? 1 : 0 };
  }
  return { ...snapshot, checks };
}
