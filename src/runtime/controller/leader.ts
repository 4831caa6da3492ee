import { errorLine } from '../../adapters/kube/errors.js';
import type { CoordinationV1Api, V1Lease } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Clock } from '../../lib/clock/clock.js';
import { LEADER_LEASE } from '../../adapters/kube/names.js';
import {
  everyRetryPeriod,
  holdLease,
  lapsed,
  observeLease,
  readLease,
  releaseLease,
  type LeaseRecord,
  type LeaseRef,
} from './lease.js';

export interface LeaderOptions {
  /** The process's coordination.k8s.io client. */
  leases: CoordinationV1Api;
  clock: Clock;
  logger: Logger;
  identity: string;
  namespace: string;
  /** The Lease's name (default kubestead-controller). */
  name?: string;
  /** A holder that has not renewed for this long has lost the Lease (default 15 s). */
  leaseDurationMs?: number;
  /** The leader stops acting when it has not renewed for this long (default 10 s; less than the lease duration). */
  renewDeadlineMs?: number;
  /** How often to try to acquire or renew (default 2 s). */
  retryPeriodMs?: number;
  onStartedLeading(): void;
  onStoppedLeading(reason: string): void;
}

/**
 * Leader election on a coordination.k8s.io/v1 Lease, as client-go does it: acquire when the Lease is free
 * or its holder has not renewed for a lease duration (as observed on this replica's clock), renew every
 * retry period, and stop leading the moment a renew deadline passes without a successful renew.
 * Times are MicroTime (six fractional digits), as the API server requires.
 */
export class LeaderElector {
  private leading = false;
  private lastRenew = Number.NEGATIVE_INFINITY;
  private lastAnswer = Number.NEGATIVE_INFINITY;
  private observed: LeaseRecord | undefined;
  private readonly stopping = new AbortController();
  private deadlineTimer: AbortController | null = null;
  private readonly ref: LeaseRef;
  private readonly name: string;
  private readonly leaseMs: number;
  private readonly renewMs: number;
  private readonly retryMs: number;
  private loop: Promise<void> | null = null;
  /** Attempts to acquire or renew that have finished (succeeded or not). */
  attempts = 0;

  constructor(private readonly options: LeaderOptions) {
    this.name = options.name ?? LEADER_LEASE;
    this.ref = { api: options.leases, name: this.name, namespace: options.namespace };
    this.leaseMs = options.leaseDurationMs ?? 15_000;
    this.renewMs = options.renewDeadlineMs ?? 10_000;
    this.retryMs = options.retryPeriodMs ?? 2000;
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** Leading, or standing by with the API server answering the Lease within a lease duration. */
  healthy(): boolean {
    return this.leading || this.options.clock.now() - this.lastAnswer < this.leaseMs;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Stops trying; a leader steps down and releases the Lease so that another replica takes over at once. */
  async stop(): Promise<void> {
    this.stopping.abort(new Error('leader election stopped'));
    await this.loop;
    if (!this.leading) return;
    this.stepDown('shutting down');
    await this.release();
  }

  private async run(): Promise<void> {
    const timing = {
      clock: this.options.clock,
      retryMs: this.retryMs,
      stopping: this.stopping.signal,
      timedOut: 'lease request timed out',
    };
    await everyRetryPeriod(timing, async (signal) => {
      const ok = await this.tryAcquireOrRenew(signal);
      this.attempts += 1;
      if (ok) this.renewed();
    });
  }

  private renewed(): void {
    this.lastRenew = this.options.clock.now();
    if (!this.leading) {
      this.leading = true;
      this.options.logger.info(
        { lease: `${this.options.namespace}/${this.name}`, identity: this.options.identity },
        'became the leader',
      );
      this.options.onStartedLeading();
    }
    this.armDeadline();
  }

  /** Steps down exactly when the renew deadline passes without a renew. */
  private armDeadline(): void {
    this.deadlineTimer?.abort();
    const timer = new AbortController();
    this.deadlineTimer = timer;
    const at = this.lastRenew + this.renewMs;
    void this.options.clock.sleep(at - this.options.clock.now(), timer.signal).then(
      () => {
        if (this.leading && this.lastRenew + this.renewMs <= this.options.clock.now())
          this.stepDown(`no renew within ${this.renewMs} ms`);
      },
      () => undefined,
    );
  }

  private stepDown(reason: string): void {
    if (!this.leading) return;
    this.leading = false;
    this.deadlineTimer?.abort();
    this.options.logger.warn(
      { lease: `${this.options.namespace}/${this.name}`, identity: this.options.identity, reason },
      'stopped leading',
    );
    this.options.onStoppedLeading(reason);
  }

  private async tryAcquireOrRenew(signal: AbortSignal): Promise<boolean> {
    try {
      const lease = await this.read(signal);
      if (lease && !this.mayTake(lease)) return false;
      const hold = { identity: this.options.identity, leaseMs: this.leaseMs, now: this.options.clock.now() };
      await holdLease(this.ref, hold, lease, signal);
      return true;
    } catch (error) {
      this.options.logger.debug({ err: errorLine(error) }, 'lease attempt failed');
      return false;
    }
  }

  /** The Lease (null when there is none), noting that the API server answered. */
  private async read(signal: AbortSignal): Promise<V1Lease | null> {
    const lease = await readLease(this.ref, signal);
    this.lastAnswer = this.options.clock.now();
    return lease;
  }

  /** Ours, free, or not renewed by its holder for a lease duration (as this replica observed it). */
  private mayTake(lease: V1Lease): boolean {
    const now = this.options.clock.now();
    this.observed = observeLease(lease, this.observed, now);
    const holder = this.observed.holder;
    if (holder === '' || holder === this.options.identity) return true;
    return lapsed(this.observed, lease, this.leaseMs, now);
  }

  /** Hands the Lease back, so that a standby takes it on its next try instead of after a lease duration. */
  private async release(): Promise<void> {
    await releaseLease({
      ...this.ref,
      identity: this.options.identity,
      clock: this.options.clock,
      logger: this.options.logger,
      retryMs: this.retryMs,
      what: 'lease',
    });
  }
}
