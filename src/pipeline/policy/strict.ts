import { z } from 'zod';

/** Levenshtein distance, for "did you mean" hints on unknown fields. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j] ?? 0;
      const cost = a[i - 1]?.toLowerCase() === b[j - 1]?.toLowerCase() ? 0 : 1;
      row[j] = Math.min(above + 1, (row[j - 1] ?? 0) + 1, diagonal + cost);
      diagonal = above;
    }
  }
  return row[b.length] ?? 0;
}

/** The known name closest to an unknown one, when it is close enough to be a typo. */
export function closest(unknown: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(unknown.length / 3)) + 1;
  for (const name of known) {
    const d = distance(unknown, name);
    if (d < bestDistance) [best, bestDistance] = [name, d];
  }
  return best;
}

export function unknownFieldMessage(key: string, known: readonly string[]): string {
  const hint = closest(key, known);
  return `unknown field "${key}"${hint ? ` (did you mean "${hint}"?)` : ''}`;
}

/** A strict object whose unknown-field errors name the field and suggest the closest known one. */
export function strict<Shape extends z.ZodRawShape>(shape: Shape) {
  const known = Object.keys(shape);
  return z.strictObject(shape, {
    error: (iss) =>
      iss.code === 'unrecognized_keys' ? iss.keys.map((k) => unknownFieldMessage(k, known)).join('\n') : undefined,
  });
}
