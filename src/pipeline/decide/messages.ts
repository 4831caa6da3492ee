import type { FactSnapshot } from '../facts/snapshot.js';
import { MESSAGE_PLACEHOLDER, type CompiledReason } from '../compile/compile.js';
import { resolvePath } from '../compile/path.js';
import { STEP_PLACEHOLDER, stepLabel } from '../policy/vocabulary.js';

/**
 * Fills `{name}` in a reason's message: from its bindings, then its check's measurement (a field, or a path inside it)
 * or its webhook's answer, then the snapshot.
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
              : measuredPath(measurement, name, snapshot);
    return value === undefined ? whole : formatValue(value);
  });
}

/** `{comparison.pValue}`: a path inside the check's measurement (null included), else one from the snapshot's root. */
function measuredPath(measurement: object | undefined, name: string, snapshot: FactSnapshot): unknown {
  const inside = measurement && name.includes('.') ? resolvePath(measurement, `$.${name}`) : undefined;
  return inside !== undefined ? inside : resolvePath(snapshot, `$.${name}`);
}

/** Numbers to six significant digits; null (a manual pause's duration) as "∞". */
function formatValue(value: unknown): string {
  if (value === null) return '∞';
  if (typeof value === 'number') return String(Number(value.toPrecision(6)));
  return typeof value === 'string' ? value : JSON.stringify(value);
}
