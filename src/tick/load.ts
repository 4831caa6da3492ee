import { compilePolicy } from '../compile/compile.js';
import { parseDuration } from '../policy/duration.js';
import { formatPath } from '../policy/issues.js';
import { parsePolicy } from '../policy/load.js';
import { alreadyShown, condition } from './conditions.js';
import { stop, type Stop, type TickContext } from './context.js';
import { recordEvent } from './record.js';

/**
 * Validates the policy as `kubestead validate` would. An invalid one gets Ready=False with the
 * one-line messages and an InvalidPolicy Event (once per generation), and the tick ends terminally:
 * retrying cannot fix a spec, a change of it will.
 */
export async function validatePolicy(ctx: TickContext): Promise<Stop | undefined> {
  const parsed = parsePolicy(ctx.raw);
  if (parsed.policy) {
    ctx.policy = parsed.policy;
    ctx.compiled = compilePolicy(parsed.policy);
    ctx.intervalMs = (parseDuration(parsed.policy.spec.interval) ?? 30) * 1000;
    return undefined;
  }
  const lines = parsed.issues.map((issue) => `${formatPath(issue.path)}: ${issue.message}`);
  const message = `invalid policy: ${lines.join('; ')}`;
  if (!alreadyShown(ctx, 'Ready', 'InvalidPolicy', message)) {
    await recordEvent(ctx, 'invalid-policy', message);
  }
  condition(ctx, 'Ready', false, { reason: 'InvalidPolicy', message });
  return stop(message, null, true);
}
