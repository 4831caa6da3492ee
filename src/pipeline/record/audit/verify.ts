import type { PolicyRef } from '../recorder.js';
import { entryHash, entryLine, GENESIS, type AuditEntry } from './entry.js';
import { ChainInputError, type ChainLine } from './parse.js';

export type Problem = 'modified' | 'missing' | 'reordered' | 'inserted' | 'truncated';

/** The first thing wrong with a chain: where (line and seq) and what. */
export interface Finding {
  problem: Problem;
  line: number;
  seq: number | null;
  message: string;
}

export interface VerifyResult {
  ok: boolean;
  policy: PolicyRef;
  entries: number;
  firstSeq: number;
  lastSeq: number;
  lastHash: string;
  finding: Finding | null;
  notes: string[];
}

export interface VerifyOptions {
  /** The head from status.audit.head (or the SIEM's copy): detects a cut tail. */
  head?: string;
  /** The head's seq (status.audit.seq): how many entries a cut tail lost. */
  headSeq?: number;
  /** `namespace/name`: the chain must be this policy's. */
  policy?: string;
  /** The file starts mid-chain on purpose (an `export --since`): its first link is not checked. */
  partial?: boolean;
}

type Entries = Array<{ line: number; entry: AuditEntry }>;

function describe(policy: PolicyRef): string {
  return `${policy.namespace}/${policy.name} (uid ${policy.uid})`;
}

/** The policy of the chain: the one most entries belong to. A genuine entry of another is bad input. */
function chainPolicy(lines: ChainLine[], expected: string | undefined): PolicyRef {
  const counts = new Map<string, { policy: PolicyRef; count: number }>();
  for (const { entry } of lines) {
    if (!entry) continue;
    const seen = counts.get(entry.policy.uid) ?? { policy: entry.policy, count: 0 };
    counts.set(entry.policy.uid, { policy: seen.policy, count: seen.count + 1 });
  }
  const ranked = [...counts.values()].sort((a, b) => b.count - a.count);
  const main = ranked[0]!.policy;
  const foreign = lines.find((l) => l.entry && l.entry.policy.uid !== main.uid && entryHash(l.entry) === l.entry.hash);
  if (foreign?.entry)
    throw new ChainInputError(
      `line ${foreign.line}: an entry of another policy's chain, ${describe(foreign.entry.policy)}, in the chain of ` +
        `${describe(main)}: verify one policy's chain at a time`,
    );
  if (expected !== undefined && `${main.namespace}/${main.name}` !== expected)
    throw new ChainInputError(`the file is the chain of ${describe(main)}, not of ${expected}`);
  return main;
}

function finding(problem: Problem, at: { line: number; entry?: AuditEntry }, message: string): Finding {
  return {
    problem,
    line: at.line,
    seq: at.entry?.seq ?? null,
    message: `line ${at.line}${at.entry ? ` (seq ${at.entry.seq})` : ''}: ${problem}: ${message}`,
  };
}

/** An entry whose own bytes are wrong: not JSON, not an entry, a hash that does not match, not canonical. */
function contentFinding(line: ChainLine, policy: PolicyRef): Finding | null {
  if (!line.entry) return finding('modified', line, line.error);
  if (entryHash(line.entry) !== line.entry.hash)
    return finding('modified', line, 'its content does not match its hash');
  if (entryLine(line.entry) !== line.text)
    return finding('modified', line, 'its bytes are not the canonical JSON that was hashed');
  if (line.entry.policy.uid !== policy.uid)
    return finding('modified', line, `names another policy (${describe(line.entry.policy)})`);
  return null;
}

function reordered(here: Entries[number], predecessor: Entries[number]): Finding {
  return finding('reordered', here, `it follows seq ${predecessor.entry.seq}, which is at line ${predecessor.line}`);
}

/** Names what a broken link between entries i-1 and i means. */
function linkFinding(entries: Entries, i: number, byHash: Map<string, number>): Finding {
  const here = entries[i]!;
  const prev = entries[i - 1]!;
  const next = entries[i + 1];
  const e = here.entry;
  const at = byHash.get(e.prevHash);
  if (at !== undefined && at > i) return reordered(here, entries[at]!);
  if (next && next.entry.prevHash === prev.entry.hash)
    return finding(
      'inserted',
      here,
      `it does not belong between seq ${prev.entry.seq} and seq ${next.entry.seq}, which link to each other`,
    );
  const before = entries[i - 2];
  if (before && e.prevHash === before.entry.hash)
    return finding('inserted', prev, `seq ${e.seq} links past it to seq ${before.entry.seq}`);
  if (at !== undefined) return reordered(here, entries[at]!);
  if (e.seq > prev.entry.seq + 1)
    return finding('missing', here, `entries seq ${prev.entry.seq + 1}..${e.seq - 1} are missing before it`);
  if (e.seq === prev.entry.seq + 1)
    return finding('modified', prev, `it was changed and re-hashed: seq ${e.seq} links to a different entry`);
  return finding(
    'inserted',
    here,
    `its seq does not follow seq ${prev.entry.seq} and it links to no entry of the chain`,
  );
}

/** The first entry: seq 0 from the genesis hash, or the first kept after a prune entry says so. */
function startFinding(entries: Entries, options: VerifyOptions, notes: string[]): Finding | null {
  const first = entries[0]!;
  if (first.entry.seq === 0 && first.entry.prevHash === GENESIS) return null;
  if (options.partial) {
    notes.push(`starts at seq ${first.entry.seq} (a partial export: its first link is not checked)`);
    return null;
  }
  const prune = entries.find(
    ({ entry }) =>
      entry.kind === 'prune' &&
      entry.pruned?.throughSeq === first.entry.seq - 1 &&
      entry.pruned.throughHash === first.entry.prevHash,
  );
  if (prune) {
    notes.push(
      `starts at seq ${first.entry.seq}: seq 0..${first.entry.seq - 1} were pruned ` +
        `(prune entry seq ${prune.entry.seq})`,
    );
    return null;
  }
  return finding(
    'missing',
    first,
    `the chain starts at seq ${first.entry.seq} and no prune entry accounts for seq 0..${first.entry.seq - 1}`,
  );
}

/**
 * A cut tail, in the matrix's terms: the chain is valid to its last entry C; the k entries after it, up
 * to the head, are not in the file and cannot be verified here (k when the head's seq is known).
 */
function truncation(last: Entries[number], head: string, headSeq: number | undefined): Finding {
  const { seq, hash } = last.entry;
  const lost =
    headSeq !== undefined && headSeq > seq
      ? `${headSeq - seq} ${headSeq - seq === 1 ? 'entry' : 'entries'} after it (seq ${seq + 1}..${headSeq}, up to the head ${head})`
      : `the entries after it, up to the head ${head},`;
  const count =
    headSeq === undefined
      ? '; --head-seq counts them'
      : headSeq > seq
        ? ''
        : `; the head's seq ${headSeq} does not follow it`;
  return finding(
    'truncated',
    last,
    `valid to seq ${seq} (${hash}); ${lost} are unverifiable: not in the file (the SIEM's copy holds them${count})`,
  );
}

function tailFinding(
  entries: Entries,
  options: VerifyOptions,
  byHash: Map<string, number>,
  notes: string[],
): Finding | null {
  const last = entries.at(-1)!;
  const { head } = options;
  if (head === undefined || last.entry.hash === head) return null;
  const at = byHash.get(head);
  if (at !== undefined) {
    notes.push(
      `${entries.length - 1 - at} entries after the given head (seq ${entries[at]!.entry.seq}) are newer than it`,
    );
    return null;
  }
  return truncation(last, head, options.headSeq);
}

/** Recomputes every hash and link of one policy's chain; the first bad entry is named. */
export function verifyChain(lines: ChainLine[], options: VerifyOptions = {}): VerifyResult {
  const policy = chainPolicy(lines, options.policy);
  const notes: string[] = [];
  const result = (entries: Entries, found: Finding | null): VerifyResult => ({
    ok: found === null,
    policy,
    entries: lines.length,
    notes,
    finding: found,
    firstSeq: entries[0]?.entry.seq ?? 0,
    lastSeq: entries.at(-1)?.entry.seq ?? 0,
    lastHash: entries.at(-1)?.entry.hash ?? GENESIS,
  });
  const entries: Entries = [];
  for (const line of lines) {
    const bad = contentFinding(line, policy);
    if (bad) return result(entries, bad);
    entries.push({ line: line.line, entry: line.entry! });
  }
  const byHash = new Map(entries.map(({ entry }, i) => [entry.hash, i]));
  const start = startFinding(entries, options, notes);
  if (start) return result(entries, start);
  for (let i = 1; i < entries.length; i += 1) {
    const { entry } = entries[i]!;
    const prev = entries[i - 1]!.entry;
    if (entry.prevHash !== prev.hash || entry.seq !== prev.seq + 1)
      return result(entries, linkFinding(entries, i, byHash));
  }
  return result(entries, tailFinding(entries, options, byHash, notes));
}

/** The verdict of a verification in one line (then its notes): `OK shop/web: 9 entries, seq 0..8, head …`. */
export function verifySummary(result: VerifyResult): string {
  const policy = `${result.policy.namespace}/${result.policy.name}`;
  if (result.finding) return `FAIL ${policy}: ${result.finding.message}\n`;
  const notes = result.notes.map((n) => `  note: ${n}\n`).join('');
  return (
    `OK ${policy}: ${result.entries} entries, seq ${result.firstSeq}..${result.lastSeq}, head ` +
    `${result.lastHash}\n${notes}`
  );
}
