import type { CoordinationV1Api, V1Lease } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Clock } from '../../lib/clock/clock.js';
import { errorLine } from '../../adapters/kube/errors.js';
import { withSignal } from '../../adapters/kube/requests.js';
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
import { assignShards, hash32, movedPolicies } from './shard-assignment.js';
import { OwnerlessSince } from './stale.js';
import type { Reconciler } from './reconciler.js';
import type { ShardClaim, WriteFence } from './deps.js';
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
  /** This replica sees every policy (its caches synced): until it first does, it holds no Lease and pauses nobody. */
  ready?(): boolean;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
}

/** A peer's Lease record as this replica last saw it, and the view it published there. */
interface Peer extends LeaseRecord {
  view: string;
}

/**
 * A replica's membership in `--shards auto`: it holds a Lease of its own (renewed every retry period),
 * reads its peers' Leases, and owns the policies that assignShards gives it over the live members.
 * Fencing: every replica publishes in its Lease the view (members and policies) it has adopted, and only
 * once no tick of a policy it no longer owns is in flight; a replica acts on a policy only while every
 * live member has published the view it holds itself. A member whose Lease lapses is no longer live, and
 * it stops acting itself after the renew deadline, before the others see its Lease lapse.
 */
export class ShardMembership implements WriteFence {
  private readonly name: string;
  private readonly leaseMs: number;
  private readonly renewMs: number;
  private readonly retryMs: number;
  private readonly stopping = new AbortController();
  private readonly peers = new Map<string, Peer>();
  private readonly acting = new Map<string, number>();
  private loop: Promise<void> | null = null;
  private lastRenew = Number.NEGATIVE_INFINITY;
  private joined = false;
  private members: string[] = [];
  private view = '';
  private published = '';
  private owners = new Map<string, string>();
  /** The view in which each policy this replica owns moved to it: the epoch of its claim (a move gives a new one). */
  private ownedSince = new Map<string, string>();
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

  /** The write fence's claim (docs/sharding.md): this replica and the view the policy moved to it in, while it may act. */
  claim(uid: string): ShardClaim | null {
    const epoch = this.ownedSince.get(uid);
    return epoch !== undefined && this.mayAct(uid) ? { replica: this.options.identity, epoch } : null;
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
    const timing = {
      clock: this.options.clock,
      retryMs: this.retryMs,
      stopping: this.stopping.signal,
      timedOut: 'membership request timed out',
    };
    await everyRetryPeriod(timing, async (signal) => {
      this.roundsStarted += 1;
      await this.round(signal);
      this.rounds += 1;
    });
  }

  private get lease(): LeaseRef {
    return { api: this.options.leases, name: this.name, namespace: this.options.namespace };
  }

  /** Renew our Lease with the view we drained to, read the peers', adopt the new view. */
  private async round(signal: AbortSignal): Promise<void> {
    // a replica joins once it sees every policy, and stays: its caches may fall silent later, its Lease should not
    if (!this.joined && this.options.ready && !this.options.ready()) return;
    this.joined = true;
    try {
      this.drain();
      // a replica that could not renew saw nothing meanwhile: it starts counting afresh, not from before the gap
      if (!this.renewing()) this.ownerless.reset();
      await this.renew(signal);
      this.lastRenew = this.options.clock.now();
      await this.readPeers(signal);
      this.adopt();
      await this.publishNow(signal);
      this.ownerless.observe(this.owners.keys(), this.agreed() && this.renewing(), this.options.clock.now());
      const stale = this.stale();
      if (stale.length > 0) this.options.onStale?.(stale);
    } catch (error) {
      this.options.logger.debug({ err: errorLine(error) }, 'shard membership round failed');
    }
  }

  /** Drains to the view just adopted and, when that changes what our Lease says, writes it now, not a round later. */
  private async publishNow(signal: AbortSignal): Promise<void> {
    const said = this.published;
    this.drain();
    if (this.published === said) return;
    await this.renew(signal);
    this.lastRenew = this.options.clock.now();
  }

  /** Published once no tick of a policy outside our share under the current view is in flight. */
  private drain(): void {
    if (this.published === this.view) return;
    const busy = [...this.acting.keys()].some((uid) => this.owners.get(uid) !== this.options.identity);
    if (!busy) this.published = this.view;
  }

  private async renew(signal: AbortSignal): Promise<void> {
    const hold = {
      identity: this.options.identity,
      leaseMs: this.leaseMs,
      now: this.options.clock.now(),
      metadata: {
        labels: { [SHARD_MEMBER_LABEL]: 'true' },
        annotations: { [SHARD_VIEW_ANNOTATION]: this.published },
      },
    };
    await holdLease(this.lease, hold, await readLease(this.lease, signal), signal);
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
      if (!lapsed(this.observe(holder, lease, now), lease, this.leaseMs, now)) live.add(holder);
    }
    for (const holder of this.peers.keys())
      if (!list.items.some((l) => l.spec?.holderIdentity === holder)) this.peers.delete(holder);
    this.members = [...live].sort();
  }

  private observe(holder: string, lease: V1Lease, now: number): Peer {
    const seen = this.peers.get(holder);
    const record = observeLease(lease, seen, now);
    if (seen && record === seen) return seen;
    const peer = { ...record, view: lease.metadata?.annotations?.[SHARD_VIEW_ANNOTATION] ?? '' };
    this.peers.set(holder, peer);
    return peer;
  }

  /** A new view (other members, or other policies): compute the owners and tell the controller. */
  private adopt(): void {
    const uids = [...new Set(this.options.policies())].sort();
    const view = hash32(`${this.members.join(',')}\n${uids.join(',')}`).toString(16);
    if (view === this.view) return;
    const before = this.owners;
    this.view = view;
    this.owners = assignShards(uids, this.members);
    // moved: the policies of both views whose owner changed (0 on this replica's first view)
    const moved = movedPolicies(before, this.owners).length;
    this.ownedSince = this.claimEpochs(before, view);
    this.options.logger.info({ members: this.members, policies: uids.length, moved, view }, 'shard view changed');
    this.options.onChange();
  }

  /** Each policy the new view gives this replica: since the view it already owned it in, else since `view`. */
  private claimEpochs(before: ReadonlyMap<string, string>, view: string): Map<string, string> {
    const me = this.options.identity;
    const since = new Map<string, string>();
    for (const [uid, owner] of this.owners)
      if (owner === me) since.set(uid, (before.get(uid) === me ? this.ownedSince.get(uid) : undefined) ?? view);
    return since;
  }

  private async release(): Promise<void> {
    await releaseLease({
      ...this.lease,
      identity: this.options.identity,
      clock: this.options.clock,
      logger: this.options.logger,
      retryMs: this.retryMs,
      what: 'membership lease',
    });
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
