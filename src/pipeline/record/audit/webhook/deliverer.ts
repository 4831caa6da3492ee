import type { Logger } from 'pino';
import type { Clock } from '../../../../lib/clock/clock.js';
import type { PolicyRef } from '../../recorder.js';
import type { SecretReader } from '../../../../adapters/secrets/reader.js';
import type { AuditEntry } from '../entry.js';
import { describeError } from '../errors.js';
import { segmentLines, type SegmentStore } from '../segments.js';
import { authorization, batchBody, bulkFailure } from './body.js';
import type { CursorStore } from './cursor.js';
import { describeDestination, destinationKey, type Destination } from './destination.js';
import { signedHeaders, signingSecrets } from '../../../../lib/sign.js';

export interface DeliveryOptions {
  /** Entries per request (default 100). */
  batchSize?: number;
  /** A request without an answer for this long is aborted and retried (default 10 s). */
  timeoutMs?: number;
  /** First retry wait (default 1 s), doubled per failure up to maxBackoffMs (default 5 min), with jitter. */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
}

export interface DelivererDeps {
  segments: SegmentStore;
  cursors: CursorStore;
  secrets: SecretReader;
  clock: Clock;
  logger: Logger;
  signal: AbortSignal;
  options: DeliveryOptions;
}

/** A failed delivery: the HTTP status, and the wait the receiver asked for (Retry-After). */
class DeliveryError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs: number | null = null,
  ) {
    super(message);
  }
}

function retryAfterMs(header: string | null, nowMs: number): number | null {
  if (header === null) return null;
  if (/^\d+$/.test(header.trim())) return Number(header) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, at - nowMs);
}

/**
 * Delivers one policy's chain to one destination, in order, from the cursor kept in the cluster.
 * A batch that failed is resent as it was (same webhook-id: the hash of its last entry) until acked.
 */
export class Deliverer {
  /** The seq of the last acknowledged entry (-1: none); null until the cursor has been read. */
  delivered: number | null = null;
  lastError: string | null = null;
  private head = -1;
  private pending: AuditEntry[] | null = null;
  /** The last seq of the batch marked in flight in the cursor (a taken-over one is resent as it was). */
  private sending: number | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private policy: PolicyRef,
    readonly destination: Destination,
    private readonly deps: DelivererDeps,
  ) {}

  /** Entries stored but not acknowledged by the destination. */
  backlog(): number {
    return this.delivered === null ? 0 : Math.max(0, this.head - this.delivered);
  }

  /** The chain has grown to `headSeq` (or may hold undelivered entries: -1): deliver until caught up. */
  wake(policy: PolicyRef, headSeq: number): void {
    this.policy = policy;
    this.head = Math.max(this.head, headSeq);
    this.running ??= this.loop().finally(() => {
      this.running = null;
    });
  }

  /** Resolves when the loop has stopped (caught up, or the recorder stopped). */
  async idle(): Promise<void> {
    await this.running;
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (!this.deps.signal.aborted) {
      try {
        if (!(await this.deliverOne())) return;
        failures = 0;
        this.lastError = null;
      } catch (error) {
        this.lastError = describeError(error);
        this.deps.logger.warn(
          {
            destination: describeDestination(this.destination),
            policy: `${this.policy.namespace}/${this.policy.name}`,
          },
          `audit delivery failed, will retry: ${this.lastError}`,
        );
        const wait = (error instanceof DeliveryError ? error.retryAfterMs : null) ?? this.backoff(failures);
        failures += 1;
        try {
          await this.deps.clock.sleep(wait, this.deps.signal);
        } catch {
          return;
        }
      }
    }
  }

  private backoff(failures: number): number {
    const base = this.deps.options.baseBackoffMs ?? 1000;
    const capped = Math.min(this.deps.options.maxBackoffMs ?? 300_000, base * 2 ** Math.min(failures, 20));
    return capped * (0.5 + Math.random() / 2);
  }

  /** Sends the next batch and moves the cursor; false when there is nothing left. */
  private async deliverOne(): Promise<boolean> {
    const key = destinationKey(this.destination);
    if (this.delivered === null) {
      const cursor = await this.deps.cursors.read(this.policy, key);
      this.delivered = cursor?.seq ?? -1;
      this.sending = cursor?.sending ?? null;
    }
    this.pending ??= await this.nextBatch(this.delivered);
    const last = this.pending.at(-1);
    if (!last) {
      this.pending = null;
      return false;
    }
    if (this.sending !== last.seq) await this.deps.cursors.markSending(this.policy, key, last.seq);
    this.sending = last.seq;
    await this.send(this.pending, last.hash);
    await this.deps.cursors.advance(this.policy, key, { seq: last.seq, hash: last.hash });
    this.delivered = last.seq;
    this.pending = null;
    return true;
  }

  private async nextBatch(after: number): Promise<AuditEntry[]> {
    const segments = await this.deps.segments.list(this.policy.namespace, this.policy.uid);
    const entries = segmentLines(segments).map((line) => JSON.parse(line) as AuditEntry);
    this.head = Math.max(this.head, entries.at(-1)?.seq ?? -1);
    const upTo = this.sending !== null && this.sending > after ? this.sending : Infinity;
    return entries.filter((e) => e.seq > after && e.seq <= upTo).slice(0, this.deps.options.batchSize ?? 100);
  }

  private async headers(id: string, body: string): Promise<Record<string, string>> {
    const { secretRef, tokenSecretRef, format } = this.destination;
    const secrets = signingSecrets(await this.deps.secrets.read(secretRef.namespace, secretRef));
    const token = tokenSecretRef ? await this.deps.secrets.read(tokenSecretRef.namespace, tokenSecretRef) : undefined;
    try {
      return { ...signedHeaders(id, this.deps.clock.now(), body, secrets), ...authorization(format, token) };
    } catch {
      throw new Error(
        `secret ${secretRef.namespace}/${secretRef.name} key "${secretRef.key}": not a Standard Webhooks secret ` +
          `(whsec_ and base64)`,
      );
    }
  }

  private async send(entries: AuditEntry[], id: string): Promise<void> {
    const { body, contentType } = batchBody(this.destination.format, entries);
    const headers = { 'content-type': contentType, ...(await this.headers(id, body)) };
    const timeoutMs = this.deps.options.timeoutMs ?? 10_000;
    const request = new AbortController();
    const timer = new AbortController();
    this.deps.clock.sleep(timeoutMs, timer.signal).then(
      () => request.abort(new Error(`no answer in ${timeoutMs} ms`)),
      () => undefined,
    );
    try {
      const response = await fetch(this.destination.url, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.any([request.signal, this.deps.signal]),
        redirect: 'error',
      });
      const answer = await response.text();
      if (!response.ok)
        throw new DeliveryError(
          `${describeDestination(this.destination)} answered ${response.status}`,
          retryAfterMs(response.headers.get('retry-after'), this.deps.clock.now()),
        );
      const failed = bulkFailure(this.destination.format, answer);
      if (failed) throw new DeliveryError(failed);
    } catch (error) {
      if (error instanceof DeliveryError) throw error;
      const why = request.signal.aborted ? `no answer in ${timeoutMs} ms` : (error as Error).message;
      throw new DeliveryError(`${describeDestination(this.destination)}: ${why}`);
    } finally {
      timer.abort();
    }
  }
}
