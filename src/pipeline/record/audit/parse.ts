import type { AuditEntry } from './entry.js';

/** Bad input to verification: not JSON Lines, empty, or not one policy's chain (exit 2). */
export class ChainInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChainInputError';
  }
}

/** One non-empty line of a chain file: an entry, or why the line is not one. */
export type ChainLine =
  | { line: number; text: string; entry: AuditEntry; error?: undefined }
  | { line: number; text: string; entry?: undefined; error: string };

const HEX64 = /^[0-9a-f]{64}$/;

/** Why a parsed value is not an audit entry, or null when it has an entry's shape. */
function shapeProblem(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const v = value as Record<string, unknown>;
  if (!Number.isSafeInteger(v.seq) || (v.seq as number) < 0) return 'no valid "seq"';
  if (typeof v.hash !== 'string' || !HEX64.test(v.hash)) return 'no valid "hash"';
  if (typeof v.prevHash !== 'string' || !HEX64.test(v.prevHash)) return 'no valid "prevHash"';
  return isPolicyRef(v.policy) ? null : 'no valid "policy"';
}

function isPolicyRef(value: unknown): boolean {
  const policy = value as Record<string, unknown> | null | undefined;
  return (
    typeof policy === 'object' &&
    policy !== null &&
    typeof policy.uid === 'string' &&
    typeof policy.name === 'string' &&
    typeof policy.namespace === 'string'
  );
}

function parseLine(text: string, line: number): ChainLine {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { line, text, error: 'not valid JSON' };
  }
  const problem = shapeProblem(value);
  return problem
    ? { line, text, error: `not an audit entry (${problem})` }
    : { line, text, entry: value as AuditEntry };
}

/**
 * Splits a JSON Lines chain. Blank lines are allowed only at the end (a final newline). A file with
 * no line that is an audit entry is bad input; a bad line among good ones is a finding of verify.
 */
export function parseChainText(text: string, source: string): ChainLine[] {
  const raw = text.split('\n');
  while (raw.length > 0 && raw.at(-1)?.trim() === '') raw.pop();
  if (raw.length === 0) throw new ChainInputError(`${source}: empty: no audit entries`);
  const lines = raw.map((t, i) =>
    t.trim() === '' ? { line: i + 1, text: t, error: 'a blank line inside the chain' } : parseLine(t, i + 1),
  );
  if (!lines.some((l) => l.entry)) {
    const first = lines[0]!;
    throw new ChainInputError(
      `${source}: not an audit chain in JSON Lines: line ${first.line} is ${first.error ?? 'not an entry'}`,
    );
  }
  return lines;
}
