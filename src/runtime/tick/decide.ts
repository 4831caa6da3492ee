import { decide } from '../../pipeline/decide/decide.js';
import { policyOf, type Stop, type TickContext } from './context.js';

/** Decide: the pure decision over the frozen snapshot. */
export async function decideTick(ctx: TickContext): Promise<Stop | undefined> {
  if (!ctx.gathered || !ctx.compiled) return undefined;
  ctx.decision = await decide(ctx.compiled, ctx.gathered.snapshot);
  ctx.shared.deps.observer.decision(ctx.decision.action, policyOf(ctx).spec.mode);
  // Every tick's decision, at debug: a decision that changes something is also logged at info, once, as it is recorded.
  if (ctx.log.isLevelEnabled('debug'))
    ctx.log.debug({ action: ctx.decision.action, reasons: ctx.decision.reasons.map((r) => r.message) }, 'decided');
  return undefined;
}
