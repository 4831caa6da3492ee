import type { CompiledPolicy } from '../compile/compile.js';
import type { Decision } from './decision.js';

/**
 * The reasons for the action taken (decide lists every reason that applied, lower precedence
 * too, e.g. the soak still running when a breach rolls back): those of rules with that action.
 */
export function winningReasons(compiled: CompiledPolicy | undefined, decision: Decision): Decision['reasons'] {
  const actions = new Map((compiled?.reasons ?? []).map((r) => [r.rule, r.action]));
  const wanted = decision.action === 'promote' ? ['promote', 'advance'] : [decision.action];
  const winning = decision.reasons.filter((r) => wanted.includes(actions.get(r.rule) ?? ''));
  return winning.length > 0 ? winning : decision.reasons;
}
