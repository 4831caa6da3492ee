import type { FactSnapshot } from '../facts/snapshot.js';
import type { RuleParams } from '../compile/compile.js';
import { resolvePath } from '../compile/path.js';

/** Fills `{name}` in a rule's message: from its params, then its check's measurement, then the snapshot. */
export function formatMessage(params: RuleParams, snapshot: FactSnapshot): string {
  const measurement = params.check ? snapshot.checks[params.check] : undefined;
  return params.message.replace(/\{([\w.]+)\}/g, (whole, name: string) => {
    const value = name in params ? params[name] : measurement && name in measurement ? measurement[name] : resolvePath(snapshot, `$.${name}`);
    return value === undefined ? whole : formatValue(value);
  });
}

function formatValue(value: unknown): string {
  if (typeof value === 'number') return String(Number(value.toPrecision(6)));
  return typeof value === 'string' ? value : JSON.stringify(value);
}
