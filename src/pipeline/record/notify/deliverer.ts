import type { Logger } from 'pino';
import { BODIES } from '../../../adapters/notifiers/formats.js';
import { defaultText, type RolloutEvent } from '../../../adapters/notifiers/event.js';
import { NotificationError, type NotificationSender } from '../../../adapters/notifiers/send.js';
import type { SecretReader } from '../../../adapters/secrets/reader.js';
import type { Clock } from '../../../lib/clock/clock.js';
import { compileJsonata, evaluateBounded } from '../../../lib/jsonata/bounded.js';
import { GENESIS, type AuditEntry } from '../audit/entry.js';
import { describeError } from '../audit/errors.js';
import { segmentLines, type SegmentStore } from '../audit/segments.js';
import type { CursorStore } from '../audit/webhook/cursor.js';
import { signedHeaders, signingSecrets } from '../../../lib/sign.js';
import type { PolicyRef } from '../recorder.js';
import { notifyCursorKey, type NotifyDestination } from './destination.js';
import { rolloutEventOf, selects } from './events.js';
import type { NotifyOutcome } from './metrics.js';
import { RateLimit } from './rate.js';

export interface NotifyOptions {
  /** The budget of one attempt (default 10 s). */
  timeoutMs?: number;
  /** First retry wait (default 1 s), doubled per failure up to maxBackoffMs (default 5 min), with jitter. */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  /** At least this long between two messages to one destination (default 1 s: Slack's rate per webhook). */
  minIntervalMs?: number;
  /** At most this many messages to one destination in any 60 s (default 20); more wait, none is dropped. */
  perMinute?: number;
  /** Consecutive failed attempts after which the destination counts as degraded (default 3). */
  degradedAfter?: number;
}

export interface NotifierDeps {
  segments: SegmentStore;
  cursors: CursorStore;
  secrets: SecretReader;
  sender: NotificationSender;
  clock: Clock;
  logger: Logger;
  signal: AbortSignal;
  options: NotifyOptions;
  /** Told of every attempt's outcome (metrics). */
  observe?: (destination: NotifyDestination, outcome: NotifyOutcome) => void;
}

/**
 * Sends one policy's events to one destination, from the policy's audit chain (the outbox: an entry is
 * stored before its action is applied, and before it is sent), in order, one message per action id. The
 * cursor moves past an entry only once the destination acknowledged it, so a restart or a new leader
 * resends the same id; a failure is retried with capped backoff in the background (no decision waits).
 */
export class Notifier {
  /** Consecutive failed attempts (0: the last one went through). */
  failures = 0;
  lastError: string | null = null;
  sent = 0;
  private head = -1;
  /** The seq of the entry that first woke this notifier (-1: woken to resume); null before. */
  private startAt: number | null = null;
  private readonly rate: RateLimit;
  private running: Promise<void> | null = null;

  constructor(
    private policy: PolicyRef,
    readonly destination: NotifyDestination,
    private readonly deps: NotifierDeps,
  ) {
    this.rate = new RateLimit(deps.options.minIntervalMs, deps.options.perMinute);
  }

  get degraded(): boolean {
    return this.failures >= (this.deps.options.degradedAfter ?? 3);
  }

  /** The chain has grown to `headSeq` (-1: unknown, look): send what the destination lacks. */
  wake(policy: PolicyRef, headSeq: number): void {
    this.policy = policy;
    this.head = Math.max(this.head, headSeq);
    this.startAt ??= headSeq;
    this.running ??= this.loop().finally(() => {
      this.running = null;
    });
  }

  async idle(): Promise<void> {
    await this.running;
  }

  private async loop(): Promise<void> {
    while (!this.deps.signal.aborted) {
      try {
        if (!(await this.sendNext())) return;
      } catch (error) {
        if (!(await this.failed(error))) return;
      }
    }
  }

  /** Records a failure and waits before the next attempt; false when stopping. */
  private async failed(error: unknown): Promise<boolean> {
    this.failures += 1;
    this.lastError = describeError(error);
    this.deps.observe?.(this.destination, 'failed');
    this.deps.logger.warn(
      { destination: this.destination.name, policy: `${this.policy.namespace}/${this.policy.name}` },
      `notification not delivered, will retry: ${this.lastError}`,
    );
    const base = this.deps.options.baseBackoffMs ?? 1000;
    const capped = Math.min(this.deps.options.maxBackoffMs ?? 300_000, base * 2 ** Math.min(this.failures - 1, 20));
    try {
      await this.deps.clock.sleep(capped * (0.5 + Math.random() / 2), this.deps.signal);
      return true;
    } catch {
      return false;
    }
  }

  /** Sends the next selected event after the cursor (moving the cursor past those before it); false when caught up. */
  private async sendNext(): Promise<boolean> {
    const key = notifyCursorKey(this.destination);
    const entries = await this.entries();
    const after = (await this.deps.cursors.read(this.policy, key))?.seq ?? (await this.start(key, entries));
    const pending = entries.filter((e) => e.seq > after);
    const next = pending.find((e) => this.wanted(e));
    const upTo = next ?? pending.at(-1);
    if (next) await this.deliver(rolloutEventOf(next)!);
    if (upTo) await this.deps.cursors.advance(this.policy, key, { seq: upTo.seq, hash: upTo.hash });
    // Entries stored while this pass ran are looked at by the next one: done only when nothing was pending.
    return upTo !== undefined;
  }

  /**
   * A destination new to the policy starts at the entry that woke it (or after the newest one, when woken to
   * resume): no history is replayed. The start is stored, so that the next leader resumes from it.
   */
  private async start(key: string, entries: AuditEntry[]): Promise<number> {
    const after = this.startAt !== null && this.startAt >= 0 ? this.startAt - 1 : (entries.at(-1)?.seq ?? -1);
    const at = entries.find((e) => e.seq === after);
    await this.deps.cursors.advance(this.policy, key, { seq: after, hash: at?.hash ?? GENESIS });
    return after;
  }

  private wanted(entry: AuditEntry): boolean {
    const event = rolloutEventOf(entry);
    return event !== null && selects(this.destination.on, event.type.slice('kubestead.rollout.'.length) as never);
  }

  private async entries(): Promise<AuditEntry[]> {
    const segments = await this.deps.segments.list(this.policy.namespace, this.policy.uid);
    const entries = segmentLines(segments).map((line) => JSON.parse(line) as AuditEntry);
    this.head = Math.max(this.head, entries.at(-1)?.seq ?? -1);
    return entries;
  }

  private async deliver(event: RolloutEvent): Promise<void> {
    const wait = this.rate.waitMs(this.deps.clock.now());
    if (wait > 0) await this.deps.clock.sleep(wait, this.deps.signal);
    const url = await this.url();
    const message = BODIES[this.destination.kind](event, await this.text(event));
    const headers = await this.headers(event.id, message.body);
    this.rate.sent(this.deps.clock.now());
    if (this.failures > 0) this.deps.observe?.(this.destination, 'retried');
    await this.deps.sender.send(url, message, headers, {
      timeoutMs: this.deps.options.timeoutMs ?? 10_000,
      signal: this.deps.signal,
    });
    this.sent += 1;
    this.failures = 0;
    this.lastError = null;
    this.deps.observe?.(this.destination, 'sent');
  }

  private async url(): Promise<string> {
    const { url } = this.destination;
    if ('value' in url) return url.value;
    return (await this.deps.secrets.read(url.secretRef.namespace, url.secretRef)).trim();
  }

  private async headers(id: string, body: string): Promise<Record<string, string>> {
    const ref = this.destination.signingSecretRef;
    if (!ref) return { 'webhook-id': id };
    try {
      return signedHeaders(
        id,
        this.deps.clock.now(),
        body,
        signingSecrets(await this.deps.secrets.read(ref.namespace, ref)),
      );
    } catch (error) {
      if (error instanceof Error && error.name === 'SecretUnavailableError') throw error;
      throw new NotificationError(
        `secret ${ref.namespace}/${ref.name} key "${ref.key}": not a Standard Webhooks secret (whsec_ and base64)`,
        true,
      );
    }
  }

  /** The policy's jsonata template over the event, or the default text when it has none or it fails. */
  private async text(event: RolloutEvent): Promise<string> {
    const template = this.destination.template;
    if (!template) return defaultText(event);
    let outcome;
    try {
      outcome = await evaluateBounded(compileJsonata(template), event);
    } catch (error) {
      outcome = { error: (error as Error).message };
    }
    if ('value' in outcome && typeof outcome.value === 'string' && outcome.value) return outcome.value;
    const why = 'value' in outcome ? 'it gave no text' : outcome.error;
    this.deps.logger.warn({ destination: this.destination.name }, `notification template not used: ${why}`);
    return defaultText(event);
  }
}
