import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers.js';

/** docs/reliability.md's table rows: the row number and its "Proven by" cell. */
function rows(): Array<{ row: number; proof: string }> {
  return readFileSync(resolve(ROOT, 'docs/reliability.md'), 'utf8')
    .split('\n')
    .filter((line) => /^\| \d+ \|/.test(line))
    .map((line) => {
      const cells = line.split(' | ');
      return { row: Number(cells[0]!.slice(2)), proof: cells[2] ?? '' };
    });
}

/** Each `path` "test name" pair a cell names. */
const named = (cell: string): Array<[string, string]> =>
  [...cell.matchAll(/`([^`]+\.test\.ts)` "([^"]+)"/g)].map((m) => [m[1]!, m[2]!]);

describe('docs/reliability.md', () => {
  it('has each matrix row 1–41 once, in order, each proven by a named test or saying "not yet proven"', () => {
    const table = rows();
    expect(table.map((r) => r.row)).toEqual(Array.from({ length: 41 }, (_, i) => i + 1));
    for (const { row, proof } of table)
      expect(proof.startsWith('not yet proven') || named(proof).length > 0, `row ${row}: ${proof}`).toBe(true);
  });

  it.each(rows().flatMap(({ row, proof }) => named(proof).map(([file, name]) => [row, file, name] as const)))(
    'row %i: %s exists and has a test named "%s"',
    (_row, file, name) => {
      const path = resolve(ROOT, file);
      expect(existsSync(path), file).toBe(true);
      const text = readFileSync(path, 'utf8');
      expect(
        [`'${name}'`, `"${name}"`, `\`${name}\``].some((quoted) => text.includes(quoted)),
        name,
      ).toBe(true);
    },
  );
});
