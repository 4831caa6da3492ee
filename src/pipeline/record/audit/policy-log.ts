import type { PolicyRef } from '../recorder.js';
import type { PolicyChain } from './chain.js';
import type { EntryDraft } from './entry.js';

/** What the recorder keeps per policy: its chain, the records waiting to be written late, a lock. */
export class PolicyLog {
  /** Records of safe actions taken while the store was down, oldest first. */
  readonly late: EntryDraft[] = [];
  /** The last storage failure, until a write succeeds again. */
  storeError: string | null = null;
  /** The running late-flush loop, if any. */
  flusher: Promise<void> | null = null;
  private lock: Promise<unknown> = Promise.resolve();

  constructor(
    public policy: PolicyRef,
    readonly chain: PolicyChain,
  ) {}

  /** Runs `work` after every earlier call has settled: one writer per policy in this process. */
  exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.lock.then(work, work);
    this.lock = run.catch(() => undefined);
    return run;
  }
}
