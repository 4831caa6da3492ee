import jsonata from 'jsonata';
import { LRUCache } from 'lru-cache';

/**
 * The limits of one jsonata evaluation (derived facts, check `value` expressions). One policy must
 * never stall or crash the operator: an endless loop ends at the time budget, deep recursion at the
 * depth budget, and a huge range or sequence at the sequence cap, each as a named error.
 * jsonata checks them itself (its `timeout`, `stack` and `sequence` options, tested on every node
 * it evaluates).
 */
export interface JsonataBudget {
  /** Wall time of one evaluation. */
  timeoutMs: number;
  /** Nesting of jsonata's evaluator (nodes within nodes, function calls within calls). */
  depth: number;
  /** The longest sequence or array an evaluation may build. */
  sequence: number;
}

export const JSONATA_BUDGET: Readonly<JsonataBudget> = Object.freeze({ timeoutMs: 200, depth: 400, sequence: 100_000 });

/** What an evaluation gave: a value (undefined when nothing matched), or why not. */
export type JsonataOutcome = { value: unknown } | { error: string; exceeded: boolean };

/**
 * Compiled expressions, shared by budget and text: compiling costs about five evaluations and each
 * compiled expression holds 16–23 KB, so many policies using one expression share one.
 */
const compiled = new LRUCache<string, jsonata.Expression>({ max: 2_000 });

/**
 * A compiled expression with the budget bound to it (null: unbounded, for benchmarks only). Throws jsonata's syntax
 * errors.
 */
export function compileJsonata(
  text: string,
  budget: Readonly<JsonataBudget> | null = JSONATA_BUDGET,
): jsonata.Expression {
  const key = budget ? `${budget.timeoutMs}/${budget.depth}/${budget.sequence}\u0000${text}` : `-\u0000${text}`;
  let expression = compiled.get(key);
  if (!expression) {
    expression = budget
      ? jsonata(text, { timeout: budget.timeoutMs, stack: budget.depth, sequence: budget.sequence })
      : jsonata(text);
    if (budget) cappedSequences.set(expression, sequenceFactoryHook(budget.sequence));
    compiled.set(key, expression);
  }
  return expression;
}

/**
 * jsonata's own sequence cap (its `sequence` option) gives every sequence it builds a new closure as
 * its own `push`: that made a derived fact three times as slow and decide 40 µs slower
 * (docs/decisions.md, "Performance"). The same cap is kept with one shared `push` per cap: an
 * evaluate-entry hook swaps the evaluation's sequence factory at its first node and is unset again
 * before evaluate returns (an evaluation runs synchronously up to that first node, so no other
 * evaluation sees the hook). The range and `$append` caps stay jsonata's: they read the option once.
 */
type EntryHook = (node: unknown, input: unknown, environment: { base?: { createSequence?: unknown } }) => void;
// jsonata binds hooks by symbol; its typings say string.
const EVALUATE_ENTRY = Symbol.for('jsonata.__evaluate_entry') as unknown as string;
const cappedSequences = new WeakMap<jsonata.Expression, EntryHook>();

function sequenceFactoryHook(cap: number): EntryHook {
  function push(this: unknown[], ...items: unknown[]): number {
    if (this.length + items.length > cap)
      throw Object.assign(new Error(`sequence longer than ${cap}`), { code: 'D2015', value: cap });
    return Array.prototype.push.apply(this, items);
  }
  // jsonata's contract: a fresh sequence, holding the one argument when given one.
  function createSequence(...initial: unknown[]): unknown[] {
    const sequence = Object.assign([] as unknown[], { push, sequence: true });
    if (initial.length === 1) sequence.push(initial[0]);
    return sequence;
  }
  return (_node, _input, environment) => {
    if (environment.base) environment.base.createSequence = createSequence;
  };
}

/** Starts an evaluation: with the shared-push sequence cap when the expression has a budget. */
function startEvaluation(expression: jsonata.Expression, input: unknown): Promise<unknown> {
  const hook = cappedSequences.get(expression);
  if (!hook) return expression.evaluate(input) as Promise<unknown>;
  expression.assign(EVALUATE_ENTRY, hook);
  try {
    return expression.evaluate(input) as Promise<unknown>;
  } finally {
    expression.assign(EVALUATE_ENTRY, undefined);
  }
}

const BUDGET_ERRORS: Record<string, (value: unknown) => string> = {
  D1011: (value) => `exceeded its depth budget of ${String(value)} (endless recursion?)`,
  D1012: (value) => `exceeded its time budget of ${String(value)} ms (an endless loop?)`,
  D2014: () => `exceeded its sequence cap of ${JSONATA_BUDGET.sequence} items (a range too large)`,
  D2015: () => `exceeded its sequence cap of ${JSONATA_BUDGET.sequence} items`,
};

/** Evaluates a compiled expression; never throws. An exceeded budget is an error with `exceeded: true`. */
export async function evaluateBounded(expression: jsonata.Expression, input: unknown): Promise<JsonataOutcome> {
  try {
    return { value: await startEvaluation(expression, input) };
  } catch (error) {
    const detail = error as { code?: string; value?: unknown; message?: string };
    const budget = detail.code === undefined ? undefined : BUDGET_ERRORS[detail.code];
    if (budget) return { error: budget(detail.value), exceeded: true };
    if (error instanceof RangeError)
      return { error: `exceeded the JavaScript stack: ${error.message}`, exceeded: true };
    return { error: detail.message ?? String(error), exceeded: false };
  }
}

/** A fact's value: a non-finite number or an evaluation error is an error, never a value; nothing is null. */
export async function evaluateJsonata(
  expression: jsonata.Expression,
  input: unknown,
): Promise<{ value: unknown } | { error: string; exceeded: boolean }> {
  const outcome = await evaluateBounded(expression, input);
  if (!('value' in outcome)) return outcome;
  const { value } = outcome;
  if (typeof value === 'number' && !Number.isFinite(value)) return { error: `result is ${value}`, exceeded: false };
  return { value: value === undefined ? null : value };
}

/** An expression as a message quotes it: cut at 60 characters. */
export function quoteExpression(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 59)}…` : text);
}
