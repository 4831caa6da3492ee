import { describeValue } from '../../pipeline/policy/issues.js';
import { compileJsonata, evaluateBounded, quoteExpression } from '../../lib/jsonata/bounded.js';
import { MetricError, type Sample } from './types.js';

/**
 * Describes a non-number for an error message, briefly: lists and maps by size and kind, anything else as validation
 * errors show it.
 */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (typeof value === 'object' && value !== null) return 'an object';
  return describeValue(value);
}

/**
 * The finite number in a value read from a backend: a number, or a string holding one (Prometheus
 * samples are strings). NaN, ±Inf, null, booleans, objects, lists and empty strings are MetricErrors
 * that name what was found; `what` says where it was read.
 */
export function finiteNumber(value: unknown, what: string): number {
  const number =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && value.trim() !== ''
        ? parseNumber(value.trim())
        : undefined;
  if (number === undefined)
    throw new MetricError(`${what} is ${value === null ? 'null (no data)' : describe(value)}, not a number`);
  if (Number.isNaN(number)) throw new MetricError(`${what} is NaN (no data, or 0/0)`);
  if (!Number.isFinite(number))
    throw new MetricError(`${what} is ${number > 0 ? '+Inf' : '-Inf'} (a division by zero?)`);
  return number;
}

/**
 * The ISO time of a sample's timestamp (milliseconds since the epoch); a timestamp no date can hold
 * (NaN, ±Inf, beyond ±8.64e15 ms) is a malformed answer — a MetricError, not a crash of the parse.
 */
export function observedAtOf(ms: number, what: string): string {
  const date = new Date(ms);
  if (Number.isNaN(date.getTime())) throw new MetricError(`${what} has timestamp ${String(ms)}, not a time`);
  return date.toISOString();
}

/**
 * Go's and Prometheus's spellings of infinity (`+Inf`, `-Inf`) and NaN as well as JavaScript's; undefined for a string
 * that is no number at all (`"healthy"`, `"12abc"`).
 */
function parseNumber(text: string): number | undefined {
  const inf = /^([+-]?)inf(inity)?$/i.exec(text);
  if (inf) return inf[1] === '-' ? -Infinity : Infinity;
  if (/^nan$/i.test(text)) return Number.NaN;
  const number = Number(text);
  return Number.isNaN(number) ? undefined : number;
}

/**
 * Applies a check's `value` jsonata expression to a provider's answer, within the evaluation budget
 * (src/lib/jsonata/bounded.ts); the result must be one finite number.
 */
export async function evaluateValue(text: string, input: unknown): Promise<Sample> {
  const quoted = quoteExpression(text);
  let expression;
  try {
    expression = compileJsonata(text);
  } catch (error) {
    throw new MetricError(`invalid value expression ${quoted}: ${(error as Error).message}`);
  }
  const outcome = await evaluateBounded(expression, input);
  if (!('value' in outcome))
    throw new MetricError(`value expression ${quoted} ${outcome.exceeded ? '' : 'failed: '}${outcome.error}`);
  let result = outcome.value;
  if (Array.isArray(result) && result.length === 1) result = result[0] as unknown;
  if (Array.isArray(result))
    throw new MetricError(`value expression ${quoted} gave ${result.length} values where one was expected`);
  if (result === undefined) throw new MetricError(`value expression ${quoted} matched nothing`);
  return { value: finiteNumber(result, `value of ${quoted}`), raw: result };
}
