import type { DecisionRecord, RecordReceipt, Recorder } from './recorder.js';

/** A record some recorder refused: which ones, and why (the write-ahead rule reads it). */
export class RecordRefusedError extends Error {
  constructor(readonly failures: string[]) {
    super(`record refused: ${failures.join('; ')}`);
    this.name = 'RecordRefusedError';
  }
}

/**
 * Several recorders as one, in order: each is told a record only once the ones before it stored it,
 * so that the durable store goes first and an Event never announces a decision the audit chain
 * lacks (a process killed between the two leaves a stored entry, never an Event alone). The first
 * refusal is the refusal. Receipts merge, later recorders' fields winning.
 */
export function fanOutRecorder(
  recorders: readonly Recorder[],
  describe: (index: number) => string = (i) => `recorder ${i}`,
): Recorder {
  return {
    async record(entry: DecisionRecord): Promise<RecordReceipt> {
      const receipts: RecordReceipt[] = [];
      let told = entry;
      for (const [i, recorder] of recorders.entries()) {
        try {
          const receipt = await recorder.record(told);
          receipts.push(receipt);
          // A repeat of a stored record (after a crash) is announced with the stored values, not the repeat's.
          if (receipt.deduped && receipt.storedMessage !== undefined)
            told = { ...told, message: receipt.storedMessage };
        } catch (error) {
          throw new RecordRefusedError([`${describe(i)}: ${error instanceof Error ? error.message : String(error)}`]);
        }
      }
      return Object.assign({}, ...receipts) as RecordReceipt;
    },
  };
}

/** A recorder that stores nothing and refuses nothing (when the operator has no other store). */
export const nullRecorder: Recorder = { record: () => Promise.resolve({}) };
