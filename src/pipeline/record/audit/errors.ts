import { ApiException } from '@kubernetes/client-node';

/** The entry of an advance or promote could not be stored: the controller must not apply it. */
export class AuditUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuditUnavailableError';
  }
}

/** Why a policy's audit trail is not healthy, as a condition reason. */
export type AuditHealthReason = 'AuditHealthy' | 'AuditStoreUnavailable' | 'AuditChainBroken' | 'AuditBacklogFull';

/** What the controller shows as a condition (Degraded) for a policy's audit trail. */
export interface AuditHealth {
  healthy: boolean;
  reason: AuditHealthReason;
  message: string;
  /** Records of safe actions waiting for the store (written late when it returns). */
  lateQueued: number;
  /** Entries not yet delivered to the slowest webhook destination. */
  backlog: number;
  /** The newest entry this recorder stored or read (absent until it has). */
  head?: { head: string; seq: number };
}

/** One line for a failure: an API server answer as `HTTP 503: its message`, never the headers or a body dump. */
export function describeError(error: unknown): string {
  if (error instanceof ApiException) {
    let message = '';
    try {
      message = (JSON.parse(String(error.body)) as { message?: string }).message ?? '';
    } catch {
      message = '';
    }
    return `HTTP ${error.code}${message ? `: ${message}` : ''}`;
  }
  return error instanceof Error ? error.message : String(error);
}
