import { errorLine } from '../../adapters/kube/errors.js';
import {
  ApiException,
  V1MicroTime,
  type CoordinationV1Api,
  type V1Lease,
  type V1LeaseSpec,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Clock } from '../../lib/clock/clock.js';
import { LEADER_LEASE } from '../../adapters/kube/names.js';
import { withSignal } from '../../adapters/kube/requests.js';

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

/** What this replica last saw of the Lease, and when (on its own clock: other replicas' clocks may be skewed). */
interface Observed {
  holder: string;
  renewTime: string;
  resourceVersion: string;
  at: number;
}

const micro = (ms: number): V1MicroTime => new V1MicroTime(ms);
const timeText = (value: unknown): string =>
  value instanceof Date ? value.toISOString() : typeof value === 'string' ? value : '';

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
  private observed: Observed | null = null;
  private readonly stopping = new AbortController();
  private deadlineTimer: AbortController | null = null;
  private readonly api: CoordinationV1Api;
  private readonly name: string;
  private readonly leaseMs: number;
  private readonly renewMs: number;
  private readonly retryMs: number;
  private loop: Promise<void> | null = null;
  /** Attempts to acquire or renew that have finished (succeeded or not). */
  attempts = 0;

  constructor(private readonly options: LeaderOptions) {
    this.api = options.leases;
    this.name = options.name ?? LEADER_LEASE;
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
    while (!this.stopping.signal.aborted) {
      const attempt = new AbortController();
      const cutoff = this.options.clock.sleep(this.retryMs, this.stopping.signal).then(
        () => attempt.abort(new Error('lease request timed out')),
        () => attempt.abort(),
      );
      const ok = await this.tryAcquireOrRenew(attempt.signal);
      this.attempts += 1;
      if (ok) this.renewed();
      await cutoff;
      if (this.stopping.signal.aborted) return;
    }
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
      if (!lease) return await this.create(signal);
      if (!this.mayTake(lease)) return false;
      await this.take(lease, signal);
      return true;
    } catch (error) {
      this.options.logger.debug({ err: errorLine(error) }, 'lease attempt failed');
      return false;
    }
  }

  private async read(signal: AbortSignal): Promise<V1Lease | null> {
    try {
      const lease = await this.api.readNamespacedLease(
        { name: this.name, namespace: this.options.namespace },
        withSignal(signal),
      );
      this.lastAnswer = this.options.clock.now();
      return lease;
    } catch (error) {
      if (!(error instanceof ApiException && error.code === 404)) throw error;
      this.lastAnswer = this.options.clock.now();
      return null;
    }
  }

  private async create(signal: AbortSignal): Promise<boolean> {
    const now = this.options.clock.now();
    const spec: V1LeaseSpec = {
      holderIdentity: this.options.identity,
      leaseDurationSeconds: Math.ceil(this.leaseMs / 1000),
      acquireTime: micro(now),
      renewTime: micro(now),
      leaseTransitions: 0,
    };
    await this.api.createNamespacedLease(
      {
        namespace: this.options.namespace,
        body: { metadata: { name: this.name, namespace: this.options.namespace }, spec },
      },
      withSignal(signal),
    );
    return true;
  }

  /** Ours, free, or not renewed by its holder for a lease duration (as this replica observed it). */
  private mayTake(lease: V1Lease): boolean {
    const now = this.options.clock.now();
    const observed = this.observe(lease, now);
    if (observed.holder === '' || observed.holder === this.options.identity) return true;
    const durationMs = (lease.spec?.leaseDurationSeconds ?? this.leaseMs / 1000) * 1000;
    return observed.at + durationMs <= now;
  }

  /** Notes when the Lease record last changed, on this replica's clock. */
  private observe(lease: V1Lease, now: number): Observed {
    const current = {
      holder: lease.spec?.holderIdentity ?? '',
      renewTime: timeText(lease.spec?.renewTime),
      resourceVersion: lease.metadata?.resourceVersion ?? '',
      at: now,
    };
    const seen = this.observed;
    const same =
      seen !== null &&
      seen.holder === current.holder &&
      seen.renewTime === current.renewTime &&
      seen.resourceVersion === current.resourceVersion;
    if (!same) this.observed = current;
    return this.observed ?? current;
  }

  private async take(lease: V1Lease, signal: AbortSignal): Promise<void> {
    const now = this.options.clock.now();
    const spec = lease.spec ?? {};
    const ours = spec.holderIdentity === this.options.identity;
    const acquired = ours && spec.acquireTime ? new Date(spec.acquireTime).getTime() : now;
    const body: V1Lease = {
      ...lease,
      spec: {
        holderIdentity: this.options.identity,
        leaseDurationSeconds: Math.ceil(this.leaseMs / 1000),
        acquireTime: micro(acquired),
        renewTime: micro(now),
        leaseTransitions: (spec.leaseTransitions ?? 0) + (ours ? 0 : 1),
      },
    };
    await this.api.replaceNamespacedLease(
      { name: this.name, namespace: this.options.namespace, body },
      withSignal(signal),
    );
  }

  /**
   * Hands the Lease back (holder empty), so that a standby takes it on its next try instead of after a lease duration.
   */
  private async release(): Promise<void> {
    const attempt = new AbortController();
    const timer = new AbortController();
    void this.options.clock.sleep(this.retryMs, timer.signal).then(
      () => attempt.abort(new Error('lease release timed out')),
      () => undefined,
    );
    const signal = attempt.signal;
    try {
      const lease = await this.read(signal);
      if (!lease || lease.spec?.holderIdentity !== this.options.identity) return;
      const now = this.options.clock.now();
      const spec = {
        ...lease.spec,
        holderIdentity: '',
        leaseDurationSeconds: 1,
        renewTime: micro(now),
        acquireTime: micro(now),
      };
      await this.api.replaceNamespacedLease(
        { name: this.name, namespace: this.options.namespace, body: { ...lease, spec } },
        withSignal(signal),
      );
      this.options.logger.info({ lease: `${this.options.namespace}/${this.name}` }, 'released the lease');
    } catch (error) {
      this.options.logger.warn(
        { err: errorLine(error) },
        'could not release the lease; another replica takes it after the lease duration',
      );
    } finally {
      timer.abort();
    }
  }
}
