import type { ShardClaim } from '../controller/deps.js';
import { isConflict } from '../../adapters/kube/errors.js';
import { keyString } from '../../adapters/kube/names.js';
import type { FenceMarks, TickContext } from './context.js';
import { compact } from './status.js';
import { StatusConflict } from './write.js';

const sameClaim = (a: ShardClaim | null | undefined, b: ShardClaim | null | undefined): boolean =>
  !!a && !!b && a.replica === b.replica && a.epoch === b.epoch;

/** The claim a policy's status names (status.shardOwner), read without parsing the rest of it. */
function shownClaim(status: unknown): ShardClaim | undefined {
  const owner = (status as { shardOwner?: unknown } | undefined)?.shardOwner as Partial<ShardClaim> | undefined;
  return typeof owner?.replica === 'string' && typeof owner.epoch === 'string'
    ? { replica: owner.replica, epoch: owner.epoch }
    : undefined;
}

/**
 * The write fence of `--shards auto` (docs/sharding.md), at the start of a tick: this replica must
 * hold its claim on the policy (it may act on it), and the policy's status must name that claim
 * (status.shardOwner). When it does not yet — the policy just moved here — one status write claims
 * it, guarded by the resourceVersion this tick read: had another replica claimed it since, that
 * write gets a 409 and the tick is re-read (StatusConflict). A re-read that finds a claim written
 * since an earlier attempt of this reconcile read it (another replica's, where that attempt found
 * this replica's or the previous owner's: its claim or its closing status write got the 409) writes
 * no claim over it: this reconcile writes nothing more. Returns false when this replica may not
 * write for the policy at all. `attempts` is carried from attempt to attempt. Without sharding there
 * is no fence: every tick may write.
 */
export async function claimPolicy(ctx: TickContext, attempts: FenceMarks['attempts']): Promise<boolean> {
  const fence = ctx.shared.deps.fence;
  if (!fence) return true;
  const claim = fence.claim(ctx.raw.metadata?.uid ?? '');
  if (!claim) return false;
  const shown = ctx.status.shardOwner;
  if (claimedSince(attempts, shown, claim)) {
    ctx.log.warn({ replica: shown?.replica, epoch: shown?.epoch }, 'another replica claimed the policy mid-tick');
    return false;
  }
  attempts.shown = shown ?? null;
  ctx.claim = claim;
  ctx.fenced = { cachedAt: ctx.shared.deps.cache.policy(ctx.key)?.metadata?.resourceVersion, attempts };
  if (!sameClaim(claim, shown)) await writeClaim(ctx, claim);
  attempts.shown = claim;
  return true;
}

/** Status names a claim written since an earlier attempt of this reconcile read it, and not this replica's own. */
const claimedSince = (attempts: FenceMarks['attempts'], shown: ShardClaim | undefined, claim: ShardClaim): boolean =>
  attempts.shown !== undefined && !!shown && !sameClaim(attempts.shown, shown) && !sameClaim(claim, shown);

/** The claim's status write, guarded by the resourceVersion the tick read (409: StatusConflict, re-read). */
async function writeClaim(ctx: TickContext, claim: ShardClaim): Promise<void> {
  try {
    ctx.raw = await ctx.shared.kube.writePolicyStatus(ctx.raw, compact({ ...ctx.status, shardOwner: claim }));
  } catch (error) {
    if (isConflict(error)) throw new StatusConflict(keyString(ctx.key));
    throw error;
  }
  ctx.status = { ...ctx.status, shardOwner: claim };
  ctx.next.shardOwner = claim;
  ctx.log.info({ replica: claim.replica, epoch: claim.epoch }, 'claimed the policy for this replica');
}

/**
 * Another replica's claim on the policy that reached this replica's cache (its policy informer) while the
 * tick ran: a cached version of the policy newer than the tick's (neither the one cached when the tick began,
 * nor the tick's own, nor one the tick's writes replaced) whose status names a claim other than this tick's.
 */
function claimedElsewhere(ctx: TickContext): ShardClaim | undefined {
  const cached = ctx.shared.deps.cache.policy(ctx.key);
  const version = cached?.metadata?.resourceVersion;
  if (!cached || version === ctx.fenced?.cachedAt || version === ctx.raw.metadata?.resourceVersion) return undefined;
  if (ctx.shared.kube.isStale('policy', cached)) return undefined;
  const shown = shownClaim(cached.status);
  return shown && !sameClaim(ctx.claim, shown) ? shown : undefined;
}

/**
 * This tick may still write: without sharding always; with it, while this replica holds the claim the
 * tick started under (the policy has not moved away, and the replica still renews its Lease), and no
 * other replica's claim on the policy has reached this replica since (a replica that moved it by a view
 * this one has not seen yet). Checked before every stage and every write after them, so a replica that
 * lost the policy mid-tick writes nothing more.
 */
export function holdsClaim(ctx: TickContext): boolean {
  const fence = ctx.shared.deps.fence;
  if (!fence) return true;
  if (!sameClaim(ctx.claim, fence.claim(ctx.raw.metadata?.uid ?? ''))) {
    ctx.log.warn('the policy moved to another replica mid-tick: this tick writes nothing more');
    return false;
  }
  const other = claimedElsewhere(ctx);
  if (other) {
    ctx.log.warn({ replica: other.replica, epoch: other.epoch }, 'another replica claimed the policy mid-tick');
    return false;
  }
  return true;
}
