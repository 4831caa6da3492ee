import { ApiException, V1MicroTime, type CoordinationV1Api, type V1Lease } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Clock } from '../../lib/clock/clock.js';
import { errorLine } from '../../adapters/kube/errors.js';
import { withSignal } from '../../adapters/kube/requests.js';
import { assignShards, hash32 } from './shard-assignment.js';
import { OwnerlessSince } from './stale.js';
import type { Reconciler } from './reconciler.js';
import type { PolicyKey } from '../../adapters/kube/names.js';

/** The label every membership Lease carries, so that a replica lists its peers' Leases and nothing else. */
export const SHARD_MEMBER_LABEL = 'kubestead.io/shard-member';
/** The view (members and policies) a replica has adopted and drained to: it acts on nothing outside it. */
export const SHARD_VIEW_ANNOTATION = 'kubestead.io/shard-view';

/** The membership Lease's name for a replica identity: `kubestead-shard-<identity as a DNS name>`. */
export function memberLeaseName(identity: string): string {
  const dns = identity
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return `kubestead-shard-${dns}`.slice(0, 63).replace(/-+$/, '');
}

export interface ShardOptions {
  leases: CoordinationV1Api;
  clock: Clock;
  logger: Logger;
  identity: string;
  namespace: string;
  /** The policy UIDs this replica considers (after --shard-selector), the same on every replica once synced. */
  policies(): string[];
  /** The view changed: every policy is worth a look (the newly owned ones act once the others drained). */
  onChange(): void;
  /**
   * After a round: the policies nobody could act on for longer than the lease duration, as this live replica sees
   * them.
   */
  onStale?(uids: string[]): void;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
}

interface Peer {
  view: string;
  renewTime: string;
  resourceVersion: string;
  /** When this replica last saw the record change, on its own clock. */
  at: number;
}

const micro = (ms: number): V1MicroTime => new V1MicroTime(ms);
const timeText = (value: unknown): string =>
  value instanceof Date ? value.toISOString() : typeof value === 'string' ? value : '';

/**
 * A replica's membership in `--shards auto`: it holds a Lease of its own (renewed every retry period),
 * reads its peers' Leases, and owns the policies that assignShards gives it over the live members.
 * Fencing: every replica publishes in its Lease the view (members and policies) it has adopted, and only
 * once no tick of a policy it no longer owns is in flight; a replica acts on a policy only while every
 * live member has published the view it holds itself. A member whose Lease lapses is no longer live, and
 * it stops acting itself after the renew deadline, before the others see its Lease lapse.
 */
export class ShardMembership {
  private readonly name: string;
  private readonly leaseMs: number;
  private readonly renewMs: number;
  private readonly retryMs: number;
  private readonly stopping = new AbortController();
  private readonly peers = new Map<string, Peer>();
  private readonly acting = new Map<string, number>();
  private loop: Promise<void> | null = null;
  private lastRenew = Number.NEGATIVE_INFINITY;
  private members: string[] = [];
  private view = '';
  private published = '';
  private owners = new Map<string, string>();
  private readonly ownerless = new OwnerlessSince();
  /** Rounds of renew-and-read that have started, and that have finished (succeeded or not). */
  roundsStarted = 0;
  rounds = 0;

  constructor(private readonly options: ShardOptions) {
    this.name = memberLeaseName(options.identity);
    this.leaseMs = options.leaseDurationMs ?? 15_000;
    this.renewMs = options.renewDeadlineMs ?? 10_000;
    this.retryMs = options.retryPeriodMs ?? 2000;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Stops renewing and releases the Lease (holder empty), so that the others take over at their next read. */
  async stop(): Promise<void> {
    this.stopping.abort(new Error('shard membership stopped'));
    await this.loop;
    await this.release();
  }

  /** The live members as this replica last read them (itself included while it renews). */
  liveMembers(): string[] {
    return [...this.members];
  }

  /** This replica may act on the policy now: it owns it, holds its Lease, and every live member agrees. */
  mayAct(uid: string): boolean {
    if (!this.renewing() || this.owners.get(uid) !== this.options.identity) return false;
    return this.agreed();
  }

  /** The current view gives the policy to this replica (it may still wait for the others to agree). */
  owns(uid: string): boolean {
    return this.owners.get(uid) === this.options.identity;
  }

  /** A tick of the policy starts; returns its end, to call when it finishes (even when it throws). */
  begin(uid: string): () => void {
    this.acting.set(uid, (this.acting.get(uid) ?? 0) + 1);
    return () => {
      const left = (this.acting.get(uid) ?? 1) - 1;
      if (left > 0) this.acting.set(uid, left);
      else this.acting.delete(uid);
    };
  }

  /** The counts /metrics shows: owned here (and acted on), unowned (nobody may act yet), multi-owned. */
  counts(): { owned: number; unowned: number; multiOwned: number } {
    const agreed = this.agreed() && this.renewing();
    let owned = 0;
    for (const owner of this.owners.values()) if (owner === this.options.identity) owned += 1;
    // ticks in flight here of policies another member owns, after this replica said it had drained them
    const multiOwned =
      this.published === this.view
        ? [...this.acting.keys()].filter((uid) => this.owners.get(uid) !== this.options.identity).length
        : 0;
    return { owned: agreed ? owned : 0, unowned: agreed ? 0 : this.owners.size, multiOwned };
  }

  /**
   * The policies nobody could act on for longer than the lease duration (no agreed view of live members
   * throughout), as this replica sees them; none while this replica does not hold its own Lease.
   */
  stale(): string[] {
    return this.renewing() ? this.ownerless.stale(this.options.clock.now(), this.leaseMs) : [];
  }

  private renewing(): boolean {
    return this.lastRenew + this.renewMs > this.options.clock.now();
  }

  private agreed(): boolean {
    return this.view !== '' && this.members.every((m) => this.peerView(m) === this.view);
  }

  private peerView(member: string): string {
    return member === this.options.identity ? this.published : (this.peers.get(member)?.view ?? '');
  }

  private async run(): Promise<void> {
    while (!this.stopping.signal.aborted) {
      const attempt = new AbortController();
      const cutoff = this.options.clock.sleep(this.retryMs, this.stopping.signal).then(
        () => attempt.abort(new Error('membership request timed out')),
        () => attempt.abort(),
      );
      this.roundsStarted += 1;
      await this.round(attempt.signal);
      this.rounds += 1;
      await cutoff;
    }
  }

  /** Renew our Lease with the view we drained to, read the peers', adopt the new view. */
  private async round(signal: AbortSignal): Promise<void> {
    try {
      this.drain();
      // a replica that could not renew saw nothing meanwhile: it starts counting afresh, not from before the gap
      if (!this.renewing()) this.ownerless.reset();
      await this.renew(signal);
      this.lastRenew = this.options.clock.now();
      await this.readPeers(signal);
      this.adopt();
      this.drain();
      this.ownerless.observe(this.owners.keys(), this.agreed() && this.renewing(), this.options.clock.now());
      const stale = this.stale();
      if (stale.length > 0) this.options.onStale?.(stale);
    } catch (error) {
      this.options.logger.debug({ err: errorLine(error) }, 'shard membership round failed');
    }
  }

  /** Published once no tick of a policy outside our share under the current view is in flight. */
  private drain(): void {
    if (this.published === this.view) return;
    const busy = [...this.acting.keys()].some((uid) => this.owners.get(uid) !== this.options.identity);
    if (!busy) this.published = this.view;
  }

  private async renew(signal: AbortSignal): Promise<void> {
    const ns = this.options.namespace;
    const now = this.options.clock.now();
    const metadata = {
      name: this.name,
      namespace: ns,
      labels: { [SHARD_MEMBER_LABEL]: 'true' },
      annotations: { [SHARD_VIEW_ANNOTATION]: this.published },
    };
    const spec = {
      holderIdentity: this.options.identity,
      leaseDurationSeconds: Math.ceil(this.leaseMs / 1000),
      renewTime: micro(now),
    };
    const current = await this.read(signal);
    if (!current) {
      await this.options.leases.createNamespacedLease(
        { namespace: ns, body: { metadata, spec: { ...spec, acquireTime: micro(now) } } },
        withSignal(signal),
      );
      return;
    }
    const body: V1Lease = {
      ...current,
      metadata: { ...current.metadata, ...metadata },
      spec: { ...current.spec, ...spec },
    };
    await this.options.leases.replaceNamespacedLease({ name: this.name, namespace: ns, body }, withSignal(signal));
  }

  private async read(signal: AbortSignal): Promise<V1Lease | null> {
    try {
      return await this.options.leases.readNamespacedLease(
        { name: this.name, namespace: this.options.namespace },
        withSignal(signal),
      );
    } catch (error) {
      if (error instanceof ApiException && error.code === 404) return null;
      throw error;
    }
  }

  /** The peers' Leases; a peer is live while its record changed within its lease duration (on our clock). */
  private async readPeers(signal: AbortSignal): Promise<void> {
    const list = await this.options.leases.listNamespacedLease(
      { namespace: this.options.namespace, labelSelector: `${SHARD_MEMBER_LABEL}=true` },
      withSignal(signal),
    );
    const now = this.options.clock.now();
    const live = new Set([this.options.identity]);
    for (const lease of list.items) {
      const holder = lease.spec?.holderIdentity ?? '';
      if (holder === '' || holder === this.options.identity) continue;
      const peer = this.observe(holder, lease, now);
      const durationMs = (lease.spec?.leaseDurationSeconds ?? this.leaseMs / 1000) * 1000;
      if (peer.at + durationMs > now) live.add(holder);
    }
    for (const holder of this.peers.keys())
      if (!list.items.some((l) => l.spec?.holderIdentity === holder)) this.peers.delete(holder);
    this.members = [...live].sort();
  }

  private observe(holder: string, lease: V1Lease, now: number): Peer {
    const seen = this.peers.get(holder);
    const current: Peer = {
      view: lease.metadata?.annotations?.[SHARD_VIEW_ANNOTATION] ?? '',
      renewTime: timeText(lease.spec?.renewTime),
      resourceVersion: lease.metadata?.resourceVersion ?? '',
      at: now,
    };
    if (seen && seen.renewTime === current.renewTime && seen.resourceVersion === current.resourceVersion) return seen;
    this.peers.set(holder, current);
    return current;
  }

  /** A new view (other members, or other policies): compute the owners and tell the controller. */
  private adopt(): void {
    const uids = [...new Set(this.options.policies())].sort();
    const view = hash32(`${this.members.join(',')}\n${uids.join(',')}`).toString(16);
    if (view === this.view) return;
    this.view = view;
    this.owners = assignShards(uids, this.members);
    this.options.logger.info({ members: this.members, policies: uids.length, view }, 'shard view changed');
    this.options.onChange();
  }

  private async release(): Promise<void> {
    const attempt = new AbortController();
    const timer = new AbortController();
    void this.options.clock.sleep(this.retryMs, timer.signal).then(
      () => attempt.abort(new Error('membership release timed out')),
      () => undefined,
    );
    try {
      const lease = await this.read(attempt.signal);
      if (!lease || lease.spec?.holderIdentity !== this.options.identity) return;
      const body: V1Lease = { ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1 } };
      await this.options.leases.replaceNamespacedLease(
        { name: this.name, namespace: this.options.namespace, body },
        withSignal(attempt.signal),
      );
      this.options.logger.info({ lease: `${this.options.namespace}/${this.name}` }, 'released the membership lease');
    } catch (error) {
      this.options.logger.warn({ err: errorLine(error) }, 'could not release the membership lease');
    } finally {
      timer.abort();
    }
  }
}

/**
 * The reconciler of a sharded replica: a tick runs only for a policy this replica may act on; a policy
 * it owns but may not act on yet (the others have not drained) is looked at again after a retry period,
 * and one another replica owns waits for a change (a new view re-adds every policy).
 */
export function shardedReconciler(
  inner: Reconciler,
  shards: Pick<ShardMembership, 'mayAct' | 'owns' | 'begin'>,
  uidOf: (key: PolicyKey) => string | undefined,
  retryMs: number,
): Reconciler {
  return {
    forget: (key) => inner.forget(key),
    async reconcile(key, signal) {
      const uid = uidOf(key);
      if (uid === undefined || !shards.mayAct(uid))
        return { requeueAfterMs: uid !== undefined && shards.owns(uid) ? retryMs : null };
      const end = shards.begin(uid);
      try {
        return await inner.reconcile(key, signal);
      } finally {
        end();
      }
    },
  };
}
