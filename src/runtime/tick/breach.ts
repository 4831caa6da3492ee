import { errorLine } from '../../adapters/kube/errors.js';
import type { Decision, Reason } from '../../pipeline/decide/decision.js';
import { condition } from './conditions.js';
import type { Stop, TickContext } from './context.js';
import { entry, store } from './record.js';
import type { RolloutStatus } from './status.js';

/**
 * The rules whose reasons are a check out of its bounds (rules/check-breach.json; check-failing.json: a failure within
 * the check's failureLimit).
 */
const BREACH_RULES: readonly string[] = ['check-breach', 'check-failing'];

/** Whether the check was out of its bounds on the tick status shows (the previous one). */
function wasBreached(status: RolloutStatus, check: string): boolean {
  const shown = status.checks?.[check];
  if (!shown || shown.status !== 'ok' || shown.value === null) return false;
  return (shown.max !== null && shown.value > shown.max) || (shown.min !== null && shown.value < shown.min);
}

/** The breach reasons of a decision whose check was within bounds on the previous tick (or not measured yet). */
export function firstBreaches(decision: Decision, previous: RolloutStatus): Reason[] {
  return decision.reasons.filter(
    (r) => BREACH_RULES.includes(r.rule) && r.check !== undefined && !wasBreached(previous, r.check),
  );
}

/**
 * The first tick on which a check goes out of bounds is a record of its own (kind `breach`, before
 * the decision it causes), once: not again while status shows the check still out of bounds. A
 * refused breach record holds nothing up (the rollback it causes goes ahead); it shows as Degraded.
 */
export async function recordBreaches(ctx: TickContext): Promise<Stop | undefined> {
  const decision = ctx.decision;
  if (!decision) return undefined;
  const breaches = firstBreaches(decision, ctx.status);
  if (breaches.length === 0) return undefined;
  const message = `first breach: ${breaches.map((r) => r.message).join('; ')}`;
  try {
    await store(ctx, entry(ctx, 'breach', { ...decision, reasons: breaches }, { message }));
  } catch (error) {
    ctx.log.warn({ error: errorLine(error) }, 'breach record refused');
    condition(ctx, 'Degraded', true, {
      reason: 'RecordRefused',
      message: `could not record "${message}": ${(error as Error).message}`,
    });
  }
  return undefined;
}
