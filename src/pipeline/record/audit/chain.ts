import type { Clock } from '../../../lib/clock/clock.js';
import { isoNow } from '../../../lib/clock/clock.js';
import type { PolicyRef } from '../recorder.js';
import { entryLine, sealEntry, type AuditEntry, type EntryDraft } from './entry.js';
import { ChainInputError, parseChainText } from './parse.js';
import { segmentLines, type Segment, type SegmentStore } from './segments.js';
import { verifyChain } from './verify.js';
import { recoveredDraft, tornTail } from './recover.js';
import { isConflict } from '../../../adapters/kube/errors.js';

/** The chain in the cluster does not verify (a corrupt or foreign segment): nothing is written to it. */
export class ChainBrokenError extends Error {
  constructor(readonly where: string) {
    super(`audit chain broken: ${where}`);
    this.name = 'ChainBrokenError';
  }
}

/** Writes kept conflicting with another writer (another replica) past the retry budget. */
export class ChainConflictError extends Error {}

const CONFLICT_RETRIES = 8;
const TAIL = 64;

/** What a writer knows of the chain: its segments, its newest entries, and whether it verifies. */
export interface ChainState {
  segments: Segment[];
  tail: AuditEntry[];
  broken: string | null;
}

/** Where a line of the concatenated segments lives, for messages. */
function locate(segments: Segment[], line: number): string {
  let rest = line;
  for (const s of segments) {
    if (rest <= s.lines.length) return `ConfigMap ${s.namespace}/${s.name} line ${rest}`;
    rest -= s.lines.length;
  }
  return `line ${line}`;
}

/** Verifies what was read; a chain that does not verify is reported broken at its first bad entry. */
export function inspect(segments: Segment[]): ChainState {
  const lines = segmentLines(segments);
  if (lines.length === 0) return { segments, tail: [], broken: null };
  try {
    const parsed = parseChainText(lines.join('\n'), 'audit chain');
    const result = verifyChain(parsed);
    const tail = parsed.slice(-TAIL).flatMap((l) => (l.entry ? [l.entry] : []));
    const broken = result.finding
      ? `${locate(segments, result.finding.line)}: ${result.finding.message.replace(/^line \d+ /, '')}`
      : null;
    return { segments, tail, broken };
  } catch (error) {
    if (error instanceof ChainInputError) return { segments, tail: [], broken: error.message };
    throw error;
  }
}

/** An entry already in the tail for the same action: a repeat after a crash between storing and applying. */
export function duplicateOf(tail: AuditEntry[], draft: EntryDraft): AuditEntry | undefined {
  if (draft.kind === 'decision') {
    // A pause, a resume and the same pause again are three actions: only the newest decision counts.
    const last = tail.findLast((e) => e.kind === 'decision');
    return last?.actionId === draft.actionId ? last : undefined;
  }
  return tail.find((e) => e.actionId === draft.actionId);
}

/** One policy's chain: appends with optimistic concurrency, re-reading the head on every conflict. */
export class PolicyChain {
  private state: ChainState | null = null;

  constructor(
    readonly policy: PolicyRef,
    private readonly store: SegmentStore,
    private readonly clock: Clock,
    private readonly segmentBytes: number,
  ) {}

  async read(): Promise<ChainState> {
    this.state ??= inspect(await this.store.list(this.policy.namespace, this.policy.uid));
    return this.state;
  }

  /** The newest entry as last read or written (undefined when not read, or after invalidate). */
  knownHead(): AuditEntry | undefined {
    return this.state?.tail.at(-1);
  }

  /** Forgets what was read: the next call re-reads the chain. */
  invalidate(): void {
    this.state = null;
  }

  /** Stores the draft as the new head, or finds it already stored; resolves once the API server has it. */
  async append(draft: EntryDraft): Promise<{ entry: AuditEntry; deduped: boolean }> {
    for (let attempt = 0; attempt <= CONFLICT_RETRIES; attempt += 1) {
      const state = await this.readOrForget();
      if (state.broken) {
        if (await this.recover(state, draft)) continue;
        // Read again on the next attempt: a repaired chain is then written to again.
        this.invalidate();
        throw new ChainBrokenError(state.broken);
      }
      const duplicate = duplicateOf(state.tail, draft);
      if (duplicate) return { entry: state.tail.at(-1)!, deduped: true };
      const entry = sealEntry(draft, state.tail.at(-1) ?? null, isoNow(this.clock));
      try {
        this.state = await this.write(state, entry);
        return { entry, deduped: false };
      } catch (error) {
        this.invalidate();
        if (!isConflict(error)) throw error;
      }
    }
    throw new ChainConflictError(
      `audit chain of ${this.policy.namespace}/${this.policy.name}: still conflicting after ${CONFLICT_RETRIES} ` +
        `re-reads`,
    );
  }

  /**
   * A chain broken by a torn write only (docs/audit.md): the torn line cut off and a `recovered` entry written as the
   * new head, before the record that found it. False when the chain is broken otherwise; a conflict is re-read.
   */
  private async recover(state: ChainState, draft: EntryDraft): Promise<boolean> {
    const torn = tornTail(state.segments, (cut) => inspect(cut).broken === null);
    if (!torn) return false;
    try {
      const head = await this.store.replace(torn.head, torn.keep, torn.head.sealed);
      const cut = inspect([...state.segments.slice(0, -1), head]);
      const prev = cut.tail.at(-1) ?? null;
      const time = isoNow(this.clock);
      this.state = await this.write(cut, sealEntry(recoveredDraft(draft, torn, prev?.seq ?? null, time), prev, time));
    } catch (error) {
      this.invalidate();
      if (!isConflict(error)) throw error;
    }
    return true;
  }

  private async readOrForget(): Promise<ChainState> {
    try {
      return await this.read();
    } catch (error) {
      this.invalidate();
      throw error;
    }
  }

  private async write(state: ChainState, entry: AuditEntry): Promise<ChainState> {
    const line = entryLine(entry);
    const head = state.segments.at(-1);
    const tail = [...state.tail, entry].slice(-TAIL);
    if (head && !head.sealed && head.bytes + Buffer.byteLength(line) + 1 <= this.segmentBytes) {
      const written = await this.store.replace(head, [...head.lines, line], false);
      return { segments: [...state.segments.slice(0, -1), written], tail, broken: null };
    }
    // Rolling over: seal the old head first, so a writer still holding it gets a conflict, not a fork.
    const sealed = head && !head.sealed ? await this.store.replace(head, head.lines, true) : head;
    const created = await this.store.create(this.policy, head ? head.index + 1 : 0, [line]);
    return { segments: [...state.segments.slice(0, -1), ...(sealed ? [sealed] : []), created], tail, broken: null };
  }
}
