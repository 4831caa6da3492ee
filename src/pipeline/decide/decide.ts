import { Fact, type RuleResult } from 'json-rules-engine';
import type { CompiledPolicy, CompiledReason } from '../compile/compile.js';
import { levelName, NO_DECISION } from '../compile/precedence.js';
import { derivedFacts } from '../facts/derived.js';
import { parseSnapshot, SnapshotError, type FactSnapshot } from '../facts/snapshot.js';
import type { Action } from '../policy/vocabulary.js';
import { contradictions } from './consistency.js';
import { checkQueryText } from '../policy/compare.js';
import type { Decision, Reason } from './decision.js';
import { judgedIssues, withFailureCounts } from './judged.js';
import { formatMessage } from './messages.js';

/**
 * The decision for one tick: pure and deterministic. It reads no clock and does no I/O;
 * everything that varies is in the snapshot. Throws SnapshotError for a malformed snapshot.
 */
export async function decide(compiled: CompiledPolicy, input: unknown): Promise<Decision> {
  const parsed = parseSnapshot(input);
  if (!parsed.snapshot) throw new SnapshotError(parsed.issues);
  const contradicting = [
    ...contradictions(compiled.spec, parsed.snapshot),
    ...judgedIssues(compiled.spec, parsed.snapshot),
  ];
  if (contradicting.length > 0) throw new SnapshotError(contradicting);
  const complete = withFailureCounts(compiled.spec, withMissingChecks(compiled, parsed.snapshot));
  const { snapshot, unavailable } = await derivedFacts(compiled, complete);
  const { results, failureResults } = await compiled.engines.run(engineFacts(snapshot));
  const fired = [...results, ...failureResults].flatMap((result) => heldReasons(compiled, result, snapshot));
  return toDecision(applied([...fired, ...unavailable]), snapshot);
}

/**
 * The policy's checks, in its order: one with no measurement counts as unavailable (docs/architecture.md, "FactSnapshot
 * v1"),
 * and a measurement of a check the policy does not have is not the decision's business.
 */
export function withMissingChecks(compiled: CompiledPolicy, snapshot: FactSnapshot): FactSnapshot {
  if (hasExactly(snapshot.checks, compiled.spec.checks)) return snapshot;
  const checks: FactSnapshot['checks'] = {};
  for (const check of compiled.spec.checks) {
    checks[check.name] = snapshot.checks[check.name] ?? {
      status: 'unavailable',
      value: null,
      min: check.min ?? null,
      max: check.max ?? null,
      provider: check.provider,
      query: checkQueryText(check),
      error: 'no measurement',
    };
  }
  return { ...snapshot, checks };
}

/** The snapshot measures exactly the policy's checks, in its order (the usual case: no copy needed). */
function hasExactly(checks: FactSnapshot['checks'], policyChecks: CompiledPolicy['spec']['checks']): boolean {
  let index = 0;
  for (const name in checks) {
    if (policyChecks[index]?.name !== name) return false;
    index += 1;
  }
  return index === policyChecks.length;
}

/** The snapshot's top-level facts as constant facts; uncached, since nothing is computed per run. */
export function engineFacts(snapshot: FactSnapshot): Record<string, Fact> {
  const facts: Record<string, Fact> = {};
  for (const [id, value] of Object.entries(snapshot)) facts[id] = new Fact(id, value, { cache: false });
  return facts;
}

/** The reasons whose conditions held in the decision rule's run. */
function heldReasons(compiled: CompiledPolicy, result: RuleResult, snapshot: FactSnapshot): CompiledReason[] {
  const conditions = (result.conditions as { any?: { result?: boolean; reason: number }[] }).any ?? [];
  return conditions.filter((c) => c.result === true).flatMap((c) => explained(compiled.reasons[c.reason], snapshot));
}

/** A reason over every check becomes one reason per check it is about, in the policy's order. */
function explained(reason: CompiledReason | undefined, snapshot: FactSnapshot): CompiledReason[] {
  if (!reason?.perCheck) return reason ? [reason] : [];
  const { field, value } = reason.perCheck;
  return Object.entries(snapshot.checks)
    .filter(([, measurement]) => (measurement as Record<string, unknown>)[field] === value)
    .map(([check]) => ({ ...reason, check }));
}

/**
 * The reasons that applied, by precedence: one is dropped when a level it names in unlessFired
 * fired. The sort is stable, so within a level the reasons keep the policy's order (custom rules
 * "by their own order", docs/decisions.md, "Precedence").
 */
function applied(fired: CompiledReason[]): CompiledReason[] {
  const levels = new Set(fired.map((r) => levelName(r.level)));
  return fired.filter((r) => !r.unlessFired?.some((level) => levels.has(level))).sort((a, b) => a.level - b.level);
}

function toDecision(fired: CompiledReason[], snapshot: FactSnapshot): Decision {
  const step = snapshot.rollout.step;
  const winner = fired[0];
  if (!winner) {
    // Unreachable with the built-in rules (every state matches one); never advance by default.
    return {
      action: 'hold',
      reasons: [{ rule: NO_DECISION, message: 'no rule applied; holding' }],
      step,
      nextStep: null,
    };
  }
  const reasons = fired.map((reason): Reason => {
    const message = formatMessage(reason, snapshot);
    return reason.check ? { rule: reason.rule, check: reason.check, message } : { rule: reason.rule, message };
  });
  const last = step >= snapshot.rollout.stepCount - 1;
  const action: Action = winner.action === 'advance' && last ? 'promote' : winner.action;
  return { action, reasons, step, nextStep: action === 'advance' ? step + 1 : null };
}
