import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { draftOf, entryHash, entryLine, sealEntry, type AuditEntry } from '../../src/pipeline/record/audit/entry.js';
import { ChainInputError, parseChainText } from '../../src/pipeline/record/audit/parse.js';
import { verifyChain, type VerifyOptions } from '../../src/pipeline/record/audit/verify.js';
import { chainOf, POLICY, recordOf } from './records.js';

const verify = (text: string, options: VerifyOptions = {}) => verifyChain(parseChainText(text, 'chain.jsonl'), options);
const linesOf = (text: string): string[] => text.trimEnd().split('\n');
const textOf = (lines: string[]): string => `${lines.join('\n')}\n`;

/** Re-seals an entry after a change, as a forger who knows the scheme would. */
function rehashed(entry: AuditEntry): AuditEntry {
  return { ...entry, hash: entryHash(entry) };
}

describe('audit verify', () => {
  const { entries, text } = chainOf(8);
  const head = entries.at(-1)!.hash;

  it('an untouched export verifies, with and without the head', () => {
    expect(verify(text)).toMatchObject({
      ok: true,
      entries: 8,
      firstSeq: 0,
      lastSeq: 7,
      lastHash: head,
      finding: null,
    });
    expect(verify(text, { head }).ok).toBe(true);
    expect(verify(text, { policy: 'shop/checkout' }).ok).toBe(true);
  });

  it('flip a byte: the entry is named as modified', () => {
    const lines = linesOf(text);
    lines[3] = lines[3]!.replace('"step":3', '"step":2');
    expect(verify(textOf(lines)).finding).toMatchObject({ problem: 'modified', line: 4, seq: 3 });
    expect(verify(textOf(lines)).finding?.message).toBe(
      'line 4 (seq 3): modified: its content does not match its hash',
    );
  });

  it('a value changed and the entry re-hashed: named by the next link', () => {
    const forged = rehashed({ ...entries[2]!, message: 'advance (nothing to see)' });
    const lines = linesOf(text);
    lines[2] = entryLine(forged);
    expect(verify(textOf(lines)).finding).toMatchObject({ problem: 'modified', line: 3, seq: 2 });
  });

  it('a byte change that keeps the value (1e-7 as 1E-7) is still a modification', () => {
    const lines = linesOf(text);
    const entry = JSON.parse(lines[1]!) as AuditEntry;
    entry.snapshot!.checks['error-rate']!.value = 1e-7;
    lines[1] = entryLine(rehashed(entry)).replace('1e-7', '1E-7');
    expect(verify(textOf(lines)).finding).toMatchObject({ problem: 'modified', line: 2 });
  });

  it('delete an entry: named as missing', () => {
    const lines = linesOf(text);
    lines.splice(4, 1);
    expect(verify(textOf(lines)).finding).toMatchObject({ problem: 'missing', line: 5, seq: 5 });
    expect(verify(textOf(lines)).finding?.message).toContain('entries seq 4..4 are missing');
  });

  it('delete the first entry: missing at the start', () => {
    expect(verify(textOf(linesOf(text).slice(1))).finding).toMatchObject({ problem: 'missing', line: 1, seq: 1 });
  });

  it('swap two entries: named as reordered', () => {
    const lines = linesOf(text);
    [lines[2], lines[5]] = [lines[5]!, lines[2]!];
    expect(verify(textOf(lines)).finding).toMatchObject({ problem: 'reordered', line: 3, seq: 5 });
  });

  it('swap two neighbours: named as reordered', () => {
    const lines = linesOf(text);
    [lines[3], lines[4]] = [lines[4]!, lines[3]!];
    expect(verify(textOf(lines)).finding).toMatchObject({ problem: 'reordered', line: 4, seq: 4 });
  });

  it('insert a forged entry that links correctly: named as inserted', () => {
    const forged = sealEntry(draftOf(recordOf('advance', 1, 30), false), entries[3]!, '2026-11-26T10:30:00Z');
    const lines = linesOf(text);
    lines.splice(4, 0, entryLine(forged));
    expect(verify(textOf(lines)).finding).toMatchObject({ problem: 'inserted', line: 5, seq: 4 });
  });

  it('insert a forged entry with a made-up link: named as inserted', () => {
    const forged = rehashed({ ...entries[3]!, seq: 4, prevHash: 'a'.repeat(64), message: 'forged' });
    const lines = linesOf(text);
    lines.splice(4, 0, entryLine(forged));
    expect(verify(textOf(lines)).finding).toMatchObject({ problem: 'inserted', line: 5 });
  });

  it('a duplicated entry: named as inserted', () => {
    const lines = linesOf(text);
    lines.splice(6, 0, lines[2]!);
    expect(verify(textOf(lines)).finding).toMatchObject({ problem: 'inserted', line: 7, seq: 2 });
  });

  it('cut the tail: found against the head, and only then', () => {
    const cut = textOf(linesOf(text).slice(0, 6));
    expect(verify(cut).ok).toBe(true);
    const result = verify(cut, { head });
    expect(result.finding).toMatchObject({ problem: 'truncated', line: 6, seq: 5 });
    expect(result.finding?.message).toBe(
      `line 6 (seq 5): truncated: valid to seq 5 (${entries[5]!.hash}); the entries after it, up to the head ${head}, ` +
        "are unverifiable: not in the file (the SIEM's copy holds them; --head-seq counts them)",
    );
  });

  it.each([
    [7, '1 entry after it (seq 7..7'],
    [4, '4 entries after it (seq 4..7'],
    [1, '7 entries after it (seq 1..7'],
  ])('cut the tail to %i entries: valid to the last kept, %s unverifiable (the matrix, row 31)', (kept, lost) => {
    const result = verify(textOf(linesOf(text).slice(0, kept)), { head, headSeq: 7 });
    expect(result.ok).toBe(false);
    expect(result.finding?.message).toBe(
      `line ${kept} (seq ${kept - 1}): truncated: valid to seq ${kept - 1} (${entries[kept - 1]!.hash}); ` +
        `${lost}, up to the head ${head}) are unverifiable: not in the file (the SIEM's copy holds them)`,
    );
  });

  it("a head's seq that does not follow the last entry: no count, and said so", () => {
    const result = verify(textOf(linesOf(text).slice(0, 6)), { head, headSeq: 5 });
    expect(result.finding?.message).toContain("the head's seq 5 does not follow it");
  });

  it('a head older than the file: the newer entries are noted, not an error', () => {
    const result = verify(text, { head: entries[5]!.hash });
    expect(result.ok).toBe(true);
    expect(result.notes).toEqual(['2 entries after the given head (seq 5) are newer than it']);
  });

  it('a partial export verifies only when said so', () => {
    const partial = textOf(linesOf(text).slice(3));
    expect(verify(partial).ok).toBe(false);
    expect(verify(partial, { partial: true }).ok).toBe(true);
  });

  it('a garbled line among good ones is a modification, not bad input', () => {
    const lines = linesOf(text);
    lines[2] = lines[2]!.slice(0, 40);
    expect(verify(textOf(lines)).finding).toMatchObject({
      problem: 'modified',
      line: 3,
      message: 'line 3: modified: not valid JSON',
    });
  });

  describe('bad input', () => {
    it.each([
      ['', 'chain.jsonl: empty: no audit entries'],
      ['\n\n', 'chain.jsonl: empty: no audit entries'],
      ['hello world\n', 'chain.jsonl: not an audit chain in JSON Lines: line 1 is not valid JSON'],
      [
        '{"a":1}\n{"b":2}\n',
        'chain.jsonl: not an audit chain in JSON Lines: line 1 is not an audit entry (no valid "seq")',
      ],
      ['[1,2,3]\n', 'chain.jsonl: not an audit chain in JSON Lines: line 1 is not an audit entry (not a JSON object)'],
    ])('%j → %s', (input, message) => {
      expect(() => verify(input)).toThrow(new ChainInputError(message));
    });

    it("another policy's chain", () => {
      expect(() => verify(text, { policy: 'shop/payments' })).toThrow(
        `the file is the chain of shop/checkout (uid ${POLICY.uid}), not of shop/payments`,
      );
    });

    it("two policies' chains in one file", () => {
      const other = sealEntry(
        draftOf(recordOf('advance', 0, 1, { policy: { ...POLICY, name: 'payments', uid: 'uid-2' } }), false),
        null,
        'x',
      );
      expect(() => verify(`${text}${entryLine(other)}\n`)).toThrow(
        /^line 9: an entry of another policy's chain, shop\/payments \(uid uid-2\)/,
      );
    });
  });

  it('property: any random mutation of an export is caught', () => {
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
      fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('swap' as const), at: fc.nat(), to: fc.nat() }),
      fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat(), to: fc.nat() }),
      fc.record({ kind: fc.constant('truncate' as const), keep: fc.nat() }),
    );
    fc.assert(
      fc.property(mutation, (m) => {
        const lines = linesOf(text);
        let mutated: string;
        switch (m.kind) {
          case 'flip': {
            const bytes = Buffer.from(text.trimEnd());
            const at = m.at % bytes.length;
            bytes[at] = bytes[at]! ^ (1 << m.bit);
            mutated = `${bytes.toString('latin1')}\n`;
            break;
          }
          case 'delete':
            lines.splice(m.at % lines.length, 1);
            mutated = textOf(lines);
            break;
          case 'swap': {
            const [a, b] = [m.at % lines.length, m.to % lines.length];
            fc.pre(a !== b);
            [lines[a], lines[b]] = [lines[b]!, lines[a]!];
            mutated = textOf(lines);
            break;
          }
          case 'duplicate':
            lines.splice(m.to % (lines.length + 1), 0, lines[m.at % lines.length]!);
            mutated = textOf(lines);
            break;
          case 'truncate':
            mutated = textOf(lines.slice(0, m.keep % lines.length));
            break;
        }
        let caught: boolean;
        try {
          caught = !verify(mutated, { head }).ok;
        } catch (error) {
          caught = error instanceof ChainInputError;
        }
        expect(caught).toBe(true);
      }),
      { numRuns: 1500 },
    );
  });
});
