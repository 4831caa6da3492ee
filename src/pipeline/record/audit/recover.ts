import type { EntryDraft } from './entry.js';
import type { Segment } from './segments.js';

/** A chain broken by a torn write: its head segment's last line, cut off, leaves a chain that verifies. */
export interface TornTail {
  head: Segment;
  /** The head's lines before the torn one. */
  keep: string[];
  /** The torn line's length in bytes. */
  bytes: number;
}

const parses = (line: string): boolean => {
  try {
    JSON.parse(line);
    return true;
  } catch {
    return false;
  }
};

/**
 * The torn tail of a broken chain, or undefined: only a last line that is not JSON at all (a write cut short by a
 * crash or a full disk) is a torn write. A last line that parses but does not verify is tampering, never cut: the
 * chain stays broken and blocks advances until a person looks. `verifies` checks the segments cut back.
 */
export function tornTail(segments: Segment[], verifies: (cut: Segment[]) => boolean): TornTail | undefined {
  const head = segments.at(-1);
  const last = head?.lines.at(-1);
  if (!head || last === undefined || parses(last)) return undefined;
  const keep = head.lines.slice(0, -1);
  if (!verifies([...segments.slice(0, -1), { ...head, lines: keep }])) return undefined;
  return { head, keep, bytes: Buffer.byteLength(last) };
}

/** The `recovered` entry written first after a cut, in the words of the record that found it. */
export function recoveredDraft(draft: EntryDraft, torn: TornTail, validToSeq: number | null, time: string): EntryDraft {
  const where = `ConfigMap ${torn.head.namespace}/${torn.head.name}`;
  const valid = validToSeq === null ? 'the chain was empty before it' : `the chain is valid to seq ${validToSeq}`;
  const message = `audit chain recovered: a torn last record (${torn.bytes} bytes) cut from ${where}; ${valid}`;
  return {
    time,
    kind: 'event',
    policy: draft.policy,
    actionId: `${draft.policy.uid}/recovered/${time}`,
    revision: draft.revision,
    decision: {
      action: 'hold',
      reasons: [{ rule: 'audit-recovered', message }],
      step: draft.decision?.step ?? 0,
      nextStep: null,
    },
    message,
    snapshot: null,
    actor: null,
    controller: draft.controller,
  };
}
