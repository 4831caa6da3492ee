import type { PolicyRef } from '../recorder.js';
import type { ChainState } from './chain.js';
import type { AuditEntry, EntryDraft } from './entry.js';
import type { Segment } from './segments.js';

export interface RetentionRule {
  maxEntries?: number;
  maxAgeSeconds?: number;
}

/** What a prune removes: whole sealed segments, oldest first, and the entry that says so. */
export interface PrunePlan {
  segments: Segment[];
  first: AuditEntry;
  last: AuditEntry;
  reason: string;
}

function edges(segment: Segment): { first: AuditEntry; last: AuditEntry } | null {
  const [head, tail] = [segment.lines[0], segment.lines.at(-1)];
  return head && tail ? { first: JSON.parse(head) as AuditEntry, last: JSON.parse(tail) as AuditEntry } : null;
}

function reasonOf(rule: RetentionRule): string {
  return [
    rule.maxEntries !== undefined ? `maxEntries ${rule.maxEntries}` : '',
    rule.maxAgeSeconds !== undefined ? `maxAgeSeconds ${rule.maxAgeSeconds}` : '',
  ]
    .filter(Boolean)
    .join(', ');
}

/** Whether retention lets an entry go, with `keptAfter` entries left once its segment is gone. */
function expired(rule: RetentionRule, keptAfter: number, last: AuditEntry, nowMs: number): boolean {
  const tooMany = rule.maxEntries !== undefined && keptAfter >= rule.maxEntries;
  const tooOld = rule.maxAgeSeconds !== undefined && Date.parse(last.time) < nowMs - rule.maxAgeSeconds * 1000;
  return tooMany || tooOld;
}

/**
 * The sealed segments the retention lets go: beyond the count or older than the age, never the head
 * segment, and never one holding an entry not yet acknowledged by every SIEM destination.
 */
export function planPrune(
  state: ChainState,
  rule: RetentionRule,
  nowMs: number,
  deliveredThrough: number | null,
): PrunePlan | null {
  if (rule.maxEntries === undefined && rule.maxAgeSeconds === undefined) return null;
  let kept = state.segments.reduce((n, s) => n + s.lines.length, 0);
  const chosen: Array<{ segment: Segment; first: AuditEntry; last: AuditEntry }> = [];
  for (const segment of state.segments.slice(0, -1)) {
    const ends = edges(segment);
    if (!ends || !segment.sealed) break;
    const delivered = deliveredThrough === null || ends.last.seq <= deliveredThrough;
    if (!expired(rule, kept - segment.lines.length, ends.last, nowMs) || !delivered) break;
    chosen.push({ segment, ...ends });
    kept -= segment.lines.length;
  }
  if (chosen.length === 0) return null;
  return {
    segments: chosen.map((c) => c.segment),
    first: chosen[0]!.first,
    last: chosen.at(-1)!.last,
    reason: reasonOf(rule),
  };
}

/** The entry recording a prune, written before the segments are deleted. */
export function pruneDraft(policy: PolicyRef, plan: PrunePlan, time: string, controller: string): EntryDraft {
  return {
    time,
    kind: 'prune',
    policy,
    actionId: `${policy.uid}/prune/${plan.last.seq}`,
    revision: null,
    decision: null,
    message:
      `pruned seq ${plan.first.seq}..${plan.last.seq} (${plan.segments.length} segments) by retention: ` +
      `${plan.reason}`,
    snapshot: null,
    actor: null,
    controller,
    pruned: {
      fromSeq: plan.first.seq,
      throughSeq: plan.last.seq,
      throughHash: plan.last.hash,
      segments: plan.segments.map((s) => s.name),
      reason: plan.reason,
    },
  };
}
