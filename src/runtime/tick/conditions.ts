import { generationOf, isoAt, type TickContext } from './context.js';
import { conditionOf, setCondition, type ConditionType } from './status.js';

/** Sets a condition on the status being built, stamped with the policy's generation. */
export function condition(
  ctx: TickContext,
  type: ConditionType,
  ok: boolean,
  text: { reason: string; message: string },
): void {
  if (type === 'Degraded' && ok) ctx.degraded = true;
  setCondition(
    ctx.next,
    {
      type,
      status: ok ? 'True' : 'False',
      reason: text.reason,
      message: text.message,
      observedGeneration: generationOf(ctx),
    },
    isoAt(ctx.now),
  );
}

/** True when the status read already shows this condition (an Event is sent only on a change). */
export function alreadyShown(ctx: TickContext, type: ConditionType, reason: string, message: string): boolean {
  const current = conditionOf(ctx.status, type);
  return current?.reason === reason && current.message === message && current.observedGeneration === generationOf(ctx);
}
