import jsonata from 'jsonata';
import { LRUCache } from 'lru-cache';
import { MetricError, type Sample } from './types.js';

type Expression = ReturnType<typeof jsonata>;

/** Compiled `value` expressions, by their text: each is compiled once. */
const compiled = new LRUCache<string, Expression>({ max: 1000 });

function compile(text: string): Expression {
  let expression = compiled.get(text);
  if (!expression) {
    try {
      expression = jsonata(text);
    } catch (error) {
      throw new MetricError(`invalid value expression ${JSON.stringify(text)}: ${(error as Error).message}`);
    }
    compiled.set(text, expression);
  }
  return expression;
}

/** Describes a non-number for an error message, briefly. */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (typeof value === 'object' && value !== null) return 'an object';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * The finite number in a value read from a backend: a number, or a string holding one (Prometheus
 * samples are strings). NaN, ±Inf, null, booleans, objects, lists and empty strings are MetricErrors
 * that name what was found; `what` says where it was read.
 */
export function finiteNumber(value: unknown, what: string): number {
  const number = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? parseNumber(value.trim()) : undefined;
  if (number === undefined) throw new MetricError(`${what} is ${value === null ? 'null (no data)' : describe(value)}, not a number`);
  if (Number.isNaN(number)) throw new MetricError(`${what} is NaN (no data, or 0/0)`);
  if (!Number.isFinite(number)) throw new MetricError(`${what} is ${number > 0 ? '+Inf' : '-Inf'} (a division by zero?)`);
  return number;
}

/** Go's and Prometheus's spellings of infinity (`+Inf`, `-Inf`) as well as JavaScript's. */
function parseNumber(text: string): number {
  const inf = /^([+-]?)inf(inity)?$/i.exec(text);
  return inf ? (inf[1] === '-' ? -Infinity : Infinity) : Number(text);
}

/** Applies a check's `value` jsonata expression to a provider's answer; the result must be one finite number. */
export async function evaluateValue(text: string, input: unknown): Promise<Sample> {
  let result: unknown;
  try {
    result = (await compile(text).evaluate(input)) as unknown;
  } catch (error) {
    if (error instanceof MetricError) throw error;
    throw new MetricError(`value expression ${JSON.stringify(text)} failed: ${(error as Error).message}`);
  }
  if (Array.isArray(result) && result.length === 1) result = result[0] as unknown;
  if (Array.isArray(result)) {
    throw new MetricError(`value expression ${JSON.stringify(text)} gave ${result.length} values where one was expected`);
  }
  if (result === undefined) throw new MetricError(`value expression ${JSON.stringify(text)} matched nothing`);
  return { value: finiteNumber(result, `value of ${JSON.stringify(text)}`), raw: result };
}
