import type { PolicyKey } from '../../adapters/kube/names.js';

/** What a reconcile asks of the queue: come back after this long, or only on a change (null). */
export interface ReconcileResult {
  requeueAfterMs: number | null;
}

/**
 * A failure that retrying cannot fix (an invalid spec): the queue does not retry it with backoff;
 * the policy is reconciled again only when it changes. The reconciler has already written why to status.
 */
export class TerminalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TerminalError';
  }
}

/**
 * One tick of one policy. The controller serialises calls per key, retries a rejection (other than
 * a TerminalError) with per-key exponential backoff, and aborts the signal on shutdown or lost leadership.
 */
export interface Reconciler {
  reconcile(key: PolicyKey, signal: AbortSignal): Promise<ReconcileResult>;
  /** The policy is gone from the cache: drop whatever is kept for it. */
  forget(key: PolicyKey): void;
}
