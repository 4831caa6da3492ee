import { parseDuration } from '../../pipeline/policy/duration.js';
import { formatPath } from '../../pipeline/policy/issues.js';
import { alreadyShown, condition } from './conditions.js';
import { stop, type Stop, type TickContext } from './context.js';
import { recordEvent } from './record.js';

/**
 * Validates the policy as `kubestead validate` would. An invalid one gets Ready=False with the
 * one-line messages and an InvalidPolicy Event (once per generation), and the tick ends terminally:
 * retrying cannot fix a spec, a change of it will.
 */
export async function validatePolicy(ctx: TickContext): Promise<Stop | undefined> {
  const validated = ctx.shared.policies.validate(ctx.raw);
  if ('policy' in validated) {
    ctx.policy = validated.policy;
    ctx.compiled = validated.compiled;
    ctx.intervalMs = (parseDuration(validated.policy.spec.interval) ?? 30) * 1000;
    return undefined;
  }
  const lines = validated.issues.map((issue) => `${formatPath(issue.path)}: ${issue.message}`);
  const message = `invalid policy: ${lines.join('; ')}`;
  if (!alreadyShown(ctx, 'Ready', 'InvalidPolicy', message)) {
    await recordEvent(ctx, 'invalid-policy', message);
  }
  condition(ctx, 'Ready', false, { reason: 'InvalidPolicy', message });
  return stop(message, null, true);
}
