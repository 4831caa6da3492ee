import type { CompiledPolicy } from '../compile/compile.js';
import type { CheckFacts } from '../facts/snapshot.js';
import { decide } from './decide.js';
import { defaultSnapshot } from './default-snapshot.js';

/** What a verdict reads of a measurement (a FactSnapshot entry, or a metrics Measurement). */
type Measured = Pick<CheckFacts, 'status' | 'value' | 'min' | 'max' | 'provider' | 'query' | 'error'>;

export type CheckVerdict = { verdict: 'pass' } | { verdict: 'fail' | 'unavailable'; message: string };

/**
 * Whether one measurement passes, judged by decide itself (the rule set's breach and unavailable
 * rules, not a second copy of them): the measurement in an otherwise healthy snapshot of the policy.
 */
export async function checkVerdict(compiled: CompiledPolicy, check: string, m: Measured): Promise<CheckVerdict> {
  const base = defaultSnapshot(compiled.spec, 0);
  const measurement = {
    status: m.status,
    value: m.value,
    min: m.min,
    max: m.max,
    provider: m.provider,
    query: m.query,
    ...(m.error === undefined ? {} : { error: m.error }),
  };
  const decision = await decide(compiled, { ...base, checks: { ...base.checks, [check]: measurement } });
  const about = decision.reasons.filter((reason) => reason.check === check);
  const breach = about.find((reason) => reason.rule === 'check-breach');
  if (breach) return { verdict: 'fail', message: breach.message };
  const unavailable = about.find((reason) => reason.rule === 'metric-unavailable');
  return unavailable ? { verdict: 'unavailable', message: unavailable.message } : { verdict: 'pass' };
}
