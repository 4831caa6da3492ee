import type { CompiledPolicy } from '../compile/compile.js';
import type { CheckFacts } from '../facts/snapshot.js';
import { decide } from './decide.js';
import { defaultSnapshot } from './default-snapshot.js';

export type CheckVerdict = { verdict: 'pass' } | { verdict: 'fail' | 'unavailable'; message: string };

/**
 * Whether one measurement passes, judged by decide itself (the rule set's breach and unavailable
 * rules, not a second copy of them): the measurement in an otherwise healthy snapshot of the policy.
 */
export async function checkVerdict(compiled: CompiledPolicy, check: string, measurement: CheckFacts): Promise<CheckVerdict> {
  const base = defaultSnapshot(compiled.spec, 0);
  const decision = await decide(compiled, { ...base, checks: { ...base.checks, [check]: measurement } });
  const about = decision.reasons.filter((reason) => reason.check === check);
  const breach = about.find((reason) => reason.rule === 'check-breach');
  if (breach) return { verdict: 'fail', message: breach.message };
  const unavailable = about.find((reason) => reason.rule === 'metric-unavailable');
  return unavailable ? { verdict: 'unavailable', message: unavailable.message } : { verdict: 'pass' };
}
