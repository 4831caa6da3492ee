import type { Decision } from '../../decide/decision.js';
import type { FactSnapshot } from '../../facts/snapshot.js';
import type { DecisionRecord, PolicyRef, RecordKind } from '../recorder.js';
import { canonicalJson, plainJson, sha256Hex } from './canonical.js';

/** The prevHash of a chain's first entry. */
export const GENESIS = '0'.repeat(64);

/** What an entry records: a record kind of the controller, or the chain's own pruning. */
export type AuditKind = RecordKind | 'prune';

/** What a `prune` entry says was removed: the entries up to and including `throughSeq`. */
export interface PruneFacts {
  fromSeq: number;
  throughSeq: number;
  /** The hash of the last pruned entry: the prevHash of the first entry kept. */
  throughHash: string;
  segments: string[];
  reason: string;
}

/** One line of the audit chain (docs/audit.md has the field list). */
export interface AuditEntry {
  seq: number;
  time: string;
  recordedAt: string;
  kind: AuditKind;
  policy: PolicyRef;
  /** Deterministic id of the action (policy uid, canary revision, step, action): the dedupe key. */
  actionId: string;
  revision: string | null;
  decision: Decision | null;
  message: string;
  snapshot: FactSnapshot | null;
  actor: string | null;
  controller: string;
  /** Present (true) when the entry was stored after the actuation it records: the store was down. */
  late?: true;
  pruned?: PruneFacts;
  prevHash: string;
  hash: string;
}

export type EntryDraft = Omit<AuditEntry, 'seq' | 'prevHash' | 'hash' | 'recordedAt'>;

/** The hash of an entry: SHA-256 over the RFC 8785 canonical JSON of the entry without `hash`. */
export function entryHash(entry: Omit<AuditEntry, 'hash'> | AuditEntry): string {
  const { hash: _hash, ...rest } = entry as AuditEntry;
  return sha256Hex(canonicalJson(rest));
}

/** The line an entry is stored and exported as: its canonical JSON (so any changed byte shows). */
export function entryLine(entry: AuditEntry): string {
  return canonicalJson(entry);
}

/**
 * The action id: the same action for the same policy, revision and step always has the same id,
 * so a record repeated after a crash between storing and applying is recognised. Overrides carry
 * their own time (two pauses by hand are two actions); controller events are never deduplicated.
 */
export function actionIdOf(record: DecisionRecord): string {
  const revision = record.revision ?? `generation-${record.policy.generation}`;
  const base = `${record.policy.uid}/${revision}/${record.decision.step}/${record.decision.action}`;
  switch (record.kind) {
    case 'decision':
    case 'breach':
      if (record.kind === 'decision') return `${base}/decision`;
      return `${base}/breach/${record.decision.reasons.map((r) => r.check ?? r.rule).join(',')}`;
    case 'override':
      return `${base}/override/${record.actor ?? ''}/${record.time}`;
    case 'shadow':
    case 'event':
      return `${base}/${record.kind}/${record.time}/${record.message}`;
    default: {
      const unknownKind: never = record.kind;
      throw new Error(`unknown record kind ${String(unknownKind)}`);
    }
  }
}

/** The part of an entry that comes from the record (sequence, links and hash come from the chain). */
export function draftOf(record: DecisionRecord, late: boolean): EntryDraft {
  const draft: EntryDraft = plainJson({
    time: record.time,
    kind: record.kind,
    policy: {
      namespace: record.policy.namespace,
      name: record.policy.name,
      uid: record.policy.uid,
      generation: record.policy.generation,
    },
    actionId: actionIdOf(record),
    revision: record.revision ?? null,
    decision: record.decision,
    message: record.message,
    snapshot: record.snapshot ?? null,
    actor: record.actor ?? null,
    controller: record.controller,
  });
  if (late) draft.late = true;
  return draft;
}

/** Seals a draft onto the chain after `prev` (or as its first entry). */
export function sealEntry(
  draft: EntryDraft,
  prev: Pick<AuditEntry, 'seq' | 'hash'> | null,
  recordedAt: string,
): AuditEntry {
  const body: Omit<AuditEntry, 'hash'> = {
    ...draft,
    seq: prev ? prev.seq + 1 : 0,
    recordedAt,
    prevHash: prev ? prev.hash : GENESIS,
  };
  return { ...body, hash: entryHash(body) };
}
