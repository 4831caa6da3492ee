import type { CompiledPolicy } from '../compile/compile.js';
import type { CheckFacts } from '../facts/snapshot.js';
import { decide } from './decide.js';
import { defaultSnapshot } from './default-snapshot.js';

/** What a verdict reads of a measurement (a FactSnapshot entry, or a metrics Measurement). */
type Measured = Pick<CheckFacts, 'status' | 'value' | 'min' | 'max' | 'provider' | 'query' | 'error'>;

export type CheckVerdict = { verdict: 'pass' } | { verdict: 'fail' | 'inconclusive' | 'unavailable'; message: string };

/** The verdict each rule about one check gives, most severe first. */
const VERDICT_OF_RULE: [string, 'fail' | 'inconclusive' | 'unavailable'][] = [
  ['check-breach', 'fail'],
  ['check-failing', 'fail'],
  ['metric-unavailable', 'unavailable'],
  ['inconclusive', 'inconclusive'],
];

/**
 * Whether one measurement passes, judged by decide itself (the rule set's breach, failure-limit, unavailable and
 * inconclusive rules, not a second copy of them): the measurement in an otherwise healthy snapshot of the policy, as
 * the first failure of its run.
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
  for (const [rule, verdict] of VERDICT_OF_RULE) {
    const reason = about.find((r) => r.rule === rule);
    if (reason) return { verdict, message: reason.message };
  }
  return { verdict: 'pass' };
}
