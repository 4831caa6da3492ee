import type { PolicyRef } from '../../recorder.js';
import type { AuditEntry } from '../entry.js';
import { stepLabel } from '../../../policy/vocabulary.js';

/** One point of a check over the rollout: the value a provider answered, with the entry it is from. */
export interface CheckPoint {
  time: string;
  value: number | null;
  status: 'ok' | 'unavailable';
  seq: number;
}

/** A check's values before the rollout's first tick, from the provider's range queries (where it has them). */
export interface CheckHistory {
  from: string;
  to: string;
  points: Array<{ time: string; value: number }>;
  /** Why there are no points (the provider has no range queries, the query failed). */
  note?: string;
}

/** A check's reading at one tick of the rollout (every tick, holds too: the controller keeps them while it runs). */
export interface TickPoint {
  time: string;
  value: number | null;
  status: 'ok' | 'unavailable';
  /** The 0-based step the tick was at. */
  step: number;
}

export interface CheckSeries {
  provider: string;
  query: string;
  min: number | null;
  max: number | null;
  /** The values of the recorded entries (decisions, breaches): always there, from the chain. */
  points: CheckPoint[];
  /** Every tick's value, added after the rollback by the controller that ran the rollout. */
  ticks?: TickPoint[];
  /** The ten minutes before the first tick. */
  history?: CheckHistory;
}

/** Adds what the chain lacks to a report written at a rollback: every tick's values, the history before it. */
export type ReportEnricher = (report: RollbackReport) => Promise<RollbackReport>;

export interface TimelineItem {
  seq: number;
  time: string;
  kind: string;
  action: string;
  /** The 0-based index of the step (the Markdown shows it as people read it, `2/3`). */
  step: number;
  weight: number | null;
  message: string;
  late: boolean;
}

export interface Breach {
  check: string;
  provider: string;
  query: string;
  value: number | null;
  min: number | null;
  max: number | null;
  observedAt: string | null;
  message: string;
}

/** A rollback report (docs/audit.md): everything in it comes from the chain's entries. */
export interface RollbackReport {
  version: 1;
  policy: PolicyRef;
  revision: string | null;
  startedAt: string;
  rolledBackAt: string;
  rollback: { seq: number; hash: string; reasons: string[] };
  /** The policy's step count when it rolled back (null: the rollback entry has no snapshot). */
  stepCount: number | null;
  timeline: TimelineItem[];
  breach: Breach | null;
  checks: Record<string, CheckSeries>;
  restored: string;
}

/** The entries of the rollout that ended with `rollback`: back to the previous rollout's end or another revision. */
export function rolloutEntries(chain: AuditEntry[], rollback: AuditEntry): AuditEntry[] {
  const end = chain.findIndex((e) => e.hash === rollback.hash);
  let start = end;
  while (start > 0) {
    const previous = chain[start - 1]!;
    const ended =
      previous.kind === 'decision' &&
      (previous.decision?.action === 'promote' || previous.decision?.action === 'rollback');
    if (ended || (rollback.revision !== null && previous.revision !== null && previous.revision !== rollback.revision))
      break;
    start -= 1;
  }
  return chain.slice(start, end + 1);
}

function seriesOf(entries: AuditEntry[]): Record<string, CheckSeries> {
  const checks: Record<string, CheckSeries> = {};
  for (const entry of entries) {
    for (const [name, m] of Object.entries(entry.snapshot?.checks ?? {})) {
      const series = (checks[name] ??= { provider: m.provider, query: m.query, min: m.min, max: m.max, points: [] });
      series.min = m.min;
      series.max = m.max;
      series.points.push({ time: m.observedAt ?? entry.time, value: m.value, status: m.status, seq: entry.seq });
    }
  }
  return checks;
}

function breachOf(rollback: AuditEntry): Breach | null {
  const reason = rollback.decision?.reasons.find((r) => r.rule === 'check-breach' && r.check !== undefined);
  const m = reason?.check !== undefined ? rollback.snapshot?.checks[reason.check] : undefined;
  if (!reason?.check || !m) return null;
  return {
    check: reason.check,
    provider: m.provider,
    query: m.query,
    value: m.value,
    min: m.min,
    max: m.max,
    observedAt: m.observedAt ?? null,
    message: reason.message,
  };
}

function restoredBy(rollback: AuditEntry): string {
  const rollout = rollback.snapshot?.rollout;
  if (!rollout) return 'canary weight set to 0 and the canary scaled to 0; the stable version keeps all traffic';
  return (
    `canary weight set to 0 (was ${rollout.weight}% at step ${stepLabel(rollout.step, rollout.stepCount)}) and ` +
    `the canary scaled to 0 (had ${rollout.canary.readyReplicas}/${rollout.canary.desiredReplicas} ready); the ` +
    `stable version keeps all traffic (${rollout.stable.readyReplicas}/${rollout.stable.desiredReplicas} ready)`
  );
}

/** Builds the report of the rollout that `rollback` ended, from the chain that holds it. */
export function buildReport(chain: AuditEntry[], rollback: AuditEntry): RollbackReport {
  const entries = rolloutEntries(chain, rollback);
  return {
    version: 1,
    policy: rollback.policy,
    revision: rollback.revision,
    startedAt: entries[0]!.time,
    rolledBackAt: rollback.time,
    rollback: {
      seq: rollback.seq,
      hash: rollback.hash,
      reasons: rollback.decision?.reasons.map((r) => r.message) ?? [],
    },
    stepCount: rollback.snapshot?.rollout.stepCount ?? null,
    timeline: entries.map((e) => ({
      seq: e.seq,
      time: e.time,
      kind: e.kind,
      action: e.decision?.action ?? e.kind,
      step: e.decision?.step ?? 0,
      weight: e.snapshot?.rollout.weight ?? null,
      message: e.message,
      late: e.late === true,
    })),
    breach: breachOf(rollback),
    checks: seriesOf(entries),
    restored: restoredBy(rollback),
  };
}
