import type { FactSnapshot } from '../facts/snapshot.js';
import { MESSAGE_PLACEHOLDER, type CompiledReason } from '../compile/compile.js';
import { resolvePath } from '../compile/path.js';
import { STEP_PLACEHOLDER, stepLabel } from '../policy/vocabulary.js';

/**
 * Fills `{name}` in a reason's message: from its bindings, then its check's measurement (or its webhook's answer), then
 * the snapshot.
 */
export function formatMessage(reason: CompiledReason, snapshot: FactSnapshot): string {
  const measurement: Record<string, unknown> | undefined = reason.check
    ? snapshot.checks[reason.check]
    : reason.webhook
      ? snapshot.webhooks?.[reason.webhook]
      : undefined;
  return reason.message.replace(MESSAGE_PLACEHOLDER, (whole, name: string) => {
    const value =
      name === 'check' && reason.check
        ? reason.check
        : name === STEP_PLACEHOLDER
          ? stepLabel(snapshot.rollout.step, snapshot.rollout.stepCount)
          : name in reason.bindings
            ? reason.bindings[name]
            : measurement && name in measurement
              ? measurement[name]
              : resolvePath(snapshot, `$.${name}`);
    return value === undefined ? whole : formatValue(value);
  });
}

/** Numbers to six significant digits; null (a manual pause's duration) as "∞". */
function formatValue(value: unknown): string {
  if (value === null) return '∞';
  if (typeof value === 'number') return String(Number(value.toPrecision(6)));
  return typeof value === 'string' ? value : JSON.stringify(value);
}
