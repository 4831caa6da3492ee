import type { Logger } from 'pino';
import { stepLabel } from '../policy/vocabulary.js';
import type { DecisionRecord, RecordReceipt, Recorder } from './recorder.js';

/** What a log line says of each check a record's reasons name: the value read and its bounds. */
type CheckValues = Record<string, { status: string; value: number | null; min: number | null; max: number | null }>;

/** Every check of the snapshot the action was decided from: a breach names one, an advance needs all in bounds. */
function valuesOf(record: DecisionRecord): CheckValues | undefined {
  const measured = Object.entries(record.snapshot?.checks ?? {});
  if (measured.length === 0) return undefined;
  return Object.fromEntries(
    measured.map(([name, m]) => [name, { status: m.status, value: m.value, min: m.min, max: m.max }]),
  );
}

/** The structured fields of one action's log line (`kubectl logs` is where an operator looks first). */
export function logFields(record: DecisionRecord, stepCount: number | undefined): Record<string, unknown> {
  const { decision, policy } = record;
  const values = valuesOf(record);
  return {
    namespace: policy.namespace,
    policy: policy.name,
    record: record.kind,
    action: record.kind === 'event' ? decision.reasons[0]?.rule : decision.action,
    step: stepLabel(decision.step, stepCount),
    reasons: decision.reasons.map((r) => (r.check ? `${r.rule} [${r.check}]` : r.rule)),
    ...(values ? { values } : {}),
    ...(record.revision ? { revision: record.revision } : {}),
    ...(record.actor ? { actor: record.actor } : {}),
  };
}

/**
 * A recorder that writes each action the controller takes (adopt, advance, pause, resume, rollback,
 * promote, hand back, overrides and breaches) as one info line: the record's one-line summary, with
 * the policy, step, reasons and the values that decided. Records carry no secret (the audit
 * chain holds the same), so neither do these lines. Ticks that change nothing are not recorded,
 * and so are not logged here.
 */
export function logRecorder(logger: Logger, stepCount: number | undefined): Recorder {
  return {
    record(record: DecisionRecord): Promise<RecordReceipt> {
      logger.info(logFields(record, stepCount), record.message);
      return Promise.resolve({});
    },
  };
}
