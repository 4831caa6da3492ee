import type { ShardClaim } from '../controller/deps.js';
import { isConflict } from '../../adapters/kube/errors.js';
import { keyString } from '../../adapters/kube/names.js';
import type { TickContext } from './context.js';
import { compact } from './status.js';
import { StatusConflict } from './write.js';

const sameClaim = (a: ShardClaim | undefined, b: ShardClaim | null | undefined): boolean =>
  a !== undefined && b !== undefined && b !== null && a.replica === b.replica && a.epoch === b.epoch;

/**
 * The write fence of `--shards auto` (docs/sharding.md), at the start of a tick: this replica must
 * hold its claim on the policy (it may act on it), and the policy's status must name that claim
 * (status.shardOwner). When it does not yet — the policy just moved here — one status write claims
 * it, guarded by the resourceVersion this tick read: had another replica claimed it since, that
 * write gets a 409 and the tick is re-read (StatusConflict), finding the fence closed if the policy
 * is no longer this replica's. Returns false when this replica may not write for the policy at all.
 * Without sharding there is no fence: every tick may write.
 */
export async function claimPolicy(ctx: TickContext): Promise<boolean> {
  const fence = ctx.shared.deps.fence;
  if (!fence) return true;
  const claim = fence.claim(ctx.raw.metadata?.uid ?? '');
  if (!claim) return false;
  ctx.claim = claim;
  if (sameClaim(claim, ctx.status.shardOwner)) return true;
  try {
    ctx.raw = await ctx.shared.kube.writePolicyStatus(ctx.raw, compact({ ...ctx.status, shardOwner: claim }));
  } catch (error) {
    if (isConflict(error)) throw new StatusConflict(keyString(ctx.key));
    throw error;
  }
  ctx.status = { ...ctx.status, shardOwner: claim };
  ctx.next.shardOwner = claim;
  ctx.log.info({ replica: claim.replica, epoch: claim.epoch }, 'claimed the policy for this replica');
  return true;
}

/**
 * This tick may still write: without sharding always; with it, while this replica holds the claim the
 * tick started under (the policy has not moved away, and the replica still renews its Lease). Checked
 * before every stage and every write after them, so a replica that lost the policy mid-tick writes
 * nothing more.
 */
export function holdsClaim(ctx: TickContext): boolean {
  const fence = ctx.shared.deps.fence;
  if (!fence) return true;
  const held = sameClaim(ctx.claim, fence.claim(ctx.raw.metadata?.uid ?? ''));
  if (!held) ctx.log.warn('the policy moved to another replica mid-tick: this tick writes nothing more');
  return held;
}
