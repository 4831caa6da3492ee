import type { z } from 'zod';
import { closest } from './strict.js';

/** One problem of a policy: where (a path into the document) and what. */
export interface PolicyIssue {
  path: (string | number)[];
  message: string;
}

/** `spec.checks[1].max` */
export function formatPath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const part of path) {
    text += typeof part === 'number' ? `[${part}]` : `${text ? '.' : ''}${String(part)}`;
  }
  return text || '(document)';
}

const EXPECTED: Record<string, string> = {
  number: 'a number',
  string: 'a string',
  object: 'a map',
  array: 'a list',
  boolean: 'true or false',
  int: 'an integer',
  nan: 'NaN',
  null: 'null',
};

/** A value as an error shows it: strings quoted and cut at 60 characters. */
export function describeValue(input: unknown): string {
  if (typeof input === 'string') return JSON.stringify(input.length > 60 ? `${input.slice(0, 59)}…` : input);
  if (typeof input === 'number' || typeof input === 'boolean' || input === null) return String(input);
  if (Array.isArray(input)) return 'a list';
  if (typeof input === 'object') return 'a map';
  return typeof input;
}

/** Turns zod issues into PolicyIssues with messages a person reads: one per problem. */
export function fromZodIssues(issues: readonly z.core.$ZodIssue[]): PolicyIssue[] {
  return issues.flatMap((issue): PolicyIssue[] => {
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    switch (issue.code) {
      case 'unrecognized_keys': {
        const messages = issue.message.split('\n');
        return issue.keys.map((key, i) => ({ path: [...path, key], message: messages[i] ?? `unknown field "${key}"` }));
      }
      case 'invalid_type':
        return [{ path, message: invalidTypeMessage(issue.expected, issue.input) }];
      case 'invalid_key':
        // A map key that is not a valid name (a header, a provider): what the key's own schema says of it.
        return [{ path, message: issue.issues[0]?.message ?? issue.message }];
      case 'invalid_value':
        return [{ path, message: invalidValueMessage(issue.values, issue.input) }];
      case 'too_small':
      case 'too_big':
        return [{ path, message: issue.message.startsWith('Too') ? boundMessage(issue) : issue.message }];
      default:
        return [{ path, message: issue.message }];
    }
  });
}

function invalidTypeMessage(expected: string, input: unknown): string {
  if (input === undefined) return 'required field is missing';
  const what =
    typeof input === 'number' && expected === 'number' ? 'a finite number' : (EXPECTED[expected] ?? expected);
  return `expected ${what}, got ${describeValue(input)}`;
}

function invalidValueMessage(values: readonly unknown[], input: unknown): string {
  if (input === undefined) return 'required field is missing';
  const options = values.map((v) => JSON.stringify(v));
  const hint = typeof input === 'string' ? closest(input, values.map(String)) : undefined;
  const expected = options.length === 1 ? options[0] : `one of ${options.join(', ')}`;
  return `expected ${expected}, got ${describeValue(input)}${hint ? ` (did you mean "${hint}"?)` : ''}`;
}

function boundMessage(issue: z.core.$ZodIssueTooSmall | z.core.$ZodIssueTooBig): string {
  const limit = 'minimum' in issue ? issue.minimum : issue.maximum;
  const small = issue.code === 'too_small';
  if (issue.origin === 'array') return `expected ${small ? 'at least' : 'at most'} ${String(limit)} item(s)`;
  if (issue.origin === 'string') return `expected ${small ? 'at least' : 'at most'} ${String(limit)} character(s)`;
  const inclusive = issue.inclusive ?? true;
  const relation = small ? (inclusive ? 'at least' : 'above') : inclusive ? 'at most' : 'below';
  return `must be ${relation} ${String(limit)}, got ${describeValue(issue.input)}`;
}
