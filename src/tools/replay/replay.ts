import { compilePolicy, type CompiledPolicy } from '../../pipeline/compile/compile.js';
import { decide } from '../../pipeline/decide/decide.js';
import type { Decision } from '../../pipeline/decide/decision.js';
import { SnapshotError, type FactSnapshot } from '../../pipeline/facts/snapshot.js';
import { verdictOf } from '../../pipeline/facts/verdict.js';
import type { RolloutPolicy } from '../../pipeline/policy/schema.js';
import { canonicalJson } from '../../pipeline/record/audit/canonical.js';
import type { AuditEntry } from '../../pipeline/record/audit/entry.js';

/** An entry the policy cannot judge (a check it lacks, a step it contradicts, no snapshot): bad input, exit 2. */
export class ReplayInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReplayInputError';
  }
}

/** A recorded decision the given policy decides otherwise. */
export interface ReplayDifference {
  seq: number;
  time: string;
  recorded: Decision;
  replayed: Decision;
}

/** What `kubestead audit replay --json` prints. */
export interface Replay {
  /** The `decision` entries of the log. */
  decisions: number;
  /** Those re-derived identically: the same action, reasons (rule, check, message, in order), step and next step. */
  identical: number;
  differences: ReplayDifference[];
  /** The seq of the first entry whose action differs: where the rollout would have gone another way (null if none). */
  firstDivergence: number | null;
}

const decisionOf = (d: Decision): Decision => ({
  action: d.action,
  reasons: d.reasons,
  step: d.step,
  nextStep: d.nextStep,
});

/** Why the policy cannot judge an entry's snapshot: a check one has and the other lacks. */
function checkMismatch(entry: AuditEntry, policy: RolloutPolicy): string | null {
  const recorded = Object.keys(entry.snapshot?.checks ?? {});
  const policyChecks = policy.spec.checks.map((c) => c.name);
  const unknown = recorded.filter((name) => !policyChecks.includes(name));
  if (unknown.length) return `it recorded check ${unknown.join(', ')}, which the policy does not have`;
  const missing = policyChecks.filter((name) => !recorded.includes(name));
  return missing.length ? `the policy's check ${missing.join(', ')} was not measured then` : null;
}

/**
 * The recorded measurements as the given policy judges them: each threshold check's verdict by its bounds, and its
 * run of failures — the recorded count where the verdict is unchanged, else counted over the entries replayed (the
 * log does not hold the ticks between them that changed nothing). With the policy the controller ran, nothing changes.
 */
function rejudged(snapshot: FactSnapshot, policy: RolloutPolicy, runs: Map<string, number>): FactSnapshot {
  const checks = { ...snapshot.checks };
  for (const check of policy.spec.checks) {
    const m = checks[check.name];
    if (!m || check.compare || m.verdict === undefined) continue;
    const verdict = verdictOf(check, m);
    const before = runs.get(check.name) ?? 0;
    const recount = verdict === 'fail' ? before + 1 : verdict === 'unavailable' ? before : 0;
    const count = verdict === m.verdict ? (m.consecutiveFailures ?? 0) : recount;
    runs.set(check.name, count);
    checks[check.name] = { ...m, verdict, consecutiveFailures: count };
  }
  return { ...snapshot, checks };
}

async function redecide(
  compiled: CompiledPolicy,
  entry: AuditEntry,
  policy: RolloutPolicy,
  runs: Map<string, number>,
): Promise<Decision> {
  const where = `seq ${entry.seq} (${entry.time})`;
  if (!entry.snapshot || !entry.decision) throw new ReplayInputError(`${where}: a decision entry without its snapshot`);
  const mismatch = checkMismatch(entry, policy);
  if (mismatch) throw new ReplayInputError(`${where}: the policy cannot judge this snapshot: ${mismatch}`);
  try {
    return await decide(compiled, rejudged(entry.snapshot, policy, runs));
  } catch (error) {
    if (error instanceof SnapshotError)
      throw new ReplayInputError(`${where}: the policy cannot judge this snapshot: ${error.message}`);
    throw error;
  }
}

/**
 * Re-decides every `decision` entry of an audit log from the snapshot it recorded, with the given
 * policy, through the same compile and decide as the controller: with the policy the controller ran,
 * every decision comes out identical.
 */
export async function replayEntries(entries: AuditEntry[], policy: RolloutPolicy): Promise<Replay> {
  const compiled = compilePolicy(policy);
  const decisions = entries.filter((e) => e.kind === 'decision');
  const differences: ReplayDifference[] = [];
  const runs = new Map<string, number>();
  for (const entry of decisions) {
    const replayed = decisionOf(await redecide(compiled, entry, policy, runs));
    const recorded = decisionOf(entry.decision!);
    if (canonicalJson(recorded) !== canonicalJson(replayed))
      differences.push({ seq: entry.seq, time: entry.time, recorded, replayed });
  }
  const first = differences.find((d) => d.recorded.action !== d.replayed.action);
  return {
    decisions: decisions.length,
    identical: decisions.length - differences.length,
    differences,
    firstDivergence: first?.seq ?? null,
  };
}
