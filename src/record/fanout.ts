import type { DecisionRecord, RecordReceipt, Recorder } from './recorder.js';

/** A record some recorder refused: which ones, and why (the write-ahead rule reads it). */
export class RecordRefusedError extends Error {
  constructor(readonly failures: string[]) {
    super(`record refused: ${failures.join('; ')}`);
    this.name = 'RecordRefusedError';
  }
}

/**
 * Several recorders as one: each gets every record, all at once; the record is stored only when
 * every one stored it (a refusal by any is a refusal). Receipts merge, later recorders' fields winning.
 */
export function fanOutRecorder(recorders: readonly Recorder[], describe: (index: number) => string = (i) => `recorder ${i}`): Recorder {
  return {
    async record(entry: DecisionRecord): Promise<RecordReceipt> {
      const results = await Promise.allSettled(recorders.map((r) => r.record(entry)));
      const failures = results.flatMap((result, i) =>
        result.status === 'rejected' ? [`${describe(i)}: ${result.reason instanceof Error ? result.reason.message : String(result.reason)}`] : []);
      if (failures.length > 0) throw new RecordRefusedError(failures);
      return Object.assign({}, ...results.map((r) => (r.status === 'fulfilled' ? r.value : {}))) as RecordReceipt;
    },
  };
}

/** A recorder that stores nothing and refuses nothing (when the operator has no other store). */
export const nullRecorder: Recorder = { record: () => Promise.resolve({}) };
