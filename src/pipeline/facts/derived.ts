import type { CompiledPolicy, CompiledReason } from '../compile/compile.js';
import { DERIVED_UNAVAILABLE, levelOf } from '../compile/precedence.js';
import { evaluateJsonata, quoteExpression } from '../../lib/jsonata/bounded.js';
import type { FactSnapshot } from './snapshot.js';

/**
 * Computes the policy's derived facts the snapshot does not already carry (the facts gatherer
 * computes them before the snapshot is frozen; fixtures may give them directly). A fact over its
 * budget is left out, not frozen as null: decide evaluates it again and marks it unavailable, named
 * (row 37 of docs/reliability.md: in a running controller it was silently null).
 */
export async function withDerived(compiled: CompiledPolicy, snapshot: FactSnapshot): Promise<FactSnapshot> {
  const { snapshot: out, exceeded } = await derivedFacts(compiled, snapshot);
  if (exceeded.length === 0) return out;
  return { ...out, derived: Object.fromEntries(Object.entries(out.derived).filter(([k]) => !exceeded.includes(k))) };
}

/**
 * The snapshot with its derived facts, and a reason for each one whose evaluation exceeded its budget
 * (src/lib/jsonata/bounded.ts): that fact is unavailable, and counts as an unavailable metric does
 * (docs/decisions.md, "Precedence" level 4). Any other error or a non-finite result gives null (docs/policy.md).
 */
export async function derivedFacts(
  compiled: CompiledPolicy,
  snapshot: FactSnapshot,
): Promise<{ snapshot: FactSnapshot; unavailable: CompiledReason[]; exceeded: string[] }> {
  const missing = compiled.derived.filter((d) => !(d.name in snapshot.derived));
  if (missing.length === 0) return { snapshot, unavailable: [], exceeded: [] };
  const derived = { ...snapshot.derived };
  const unavailable: CompiledReason[] = [];
  const exceeded: string[] = [];
  for (const { name, text, expression } of missing) {
    const result = await evaluateJsonata(expression, snapshot);
    derived[name] = 'value' in result ? result.value : null;
    if ('error' in result && result.exceeded) {
      exceeded.push(name);
      unavailable.push(derivedUnavailable(compiled, name, `${quoteExpression(text)} ${result.error}`));
    }
  }
  return { snapshot: { ...snapshot, derived }, unavailable, exceeded };
}

function derivedUnavailable(compiled: CompiledPolicy, name: string, error: string): CompiledReason {
  const action = compiled.spec.onMetricUnavailable;
  return {
    rule: DERIVED_UNAVAILABLE,
    level: levelOf('metric-unavailable'),
    action,
    message: `derived fact ${name} is unavailable: {error}; onMetricUnavailable: ${action}`,
    bindings: { error },
  };
}
