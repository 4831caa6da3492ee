import type { Logger } from 'pino';
import { isoNow, type Clock } from '../../lib/clock/clock.js';
import type { PolicyObject } from '../../adapters/kube/cache.js';
import type { KubeClient } from '../../adapters/kube/client.js';
import { errorLine } from '../../adapters/kube/errors.js';
import { readModifyWrite } from '../../adapters/kube/objects.js';
import type { PolicyKey } from '../../adapters/kube/names.js';

/** The condition a policy shows while no replica of `--shards auto` has been able to act on it for a lease duration. */
export const STALE_CONDITION = 'Stale';
export const STALE_REASON = 'NoLiveOwner';

/**
 * When each policy last had an owner that could act on it, as one replica sees it (docs/sharding.md,
 * "What an operator sees during a move"). A round in which the view is agreed by every live member
 * (and this replica holds its Lease) counts every policy of the view as owned; a round without that
 * agreement leaves the times where they were. A policy first seen counts as owned when seen, so that a
 * replica that starts does not call everything stale at once.
 */
export class OwnerlessSince {
  private lastOwned = new Map<string, number>();

  observe(uids: Iterable<string>, owned: boolean, now: number): void {
    const next = new Map<string, number>();
    for (const uid of uids) next.set(uid, owned ? now : (this.lastOwned.get(uid) ?? now));
    this.lastOwned = next;
  }

  /** Forgets every time seen (a replica that could not renew its Lease knows nothing of the time between). */
  reset(): void {
    this.lastOwned = new Map();
  }

  /** The policies without an owner that could act for longer than `afterMs`, sorted. */
  stale(now: number, afterMs: number): string[] {
    return [...this.lastOwned]
      .filter(([, at]) => now - at > afterMs)
      .map(([uid]) => uid)
      .sort();
  }
}

type Condition = Record<string, unknown> & { type?: unknown; status?: unknown };

const conditionsOf = (status: Record<string, unknown> | undefined): Condition[] =>
  Array.isArray(status?.conditions) ? (status.conditions as Condition[]) : [];

/** The policy's status shows `Stale=True` already. */
export function showsStale(policy: PolicyObject | undefined): boolean {
  return conditionsOf(policy?.status).some((c) => c.type === STALE_CONDITION && c.status === 'True');
}

/** The status with `Stale=True` set (every other condition kept as it is). */
export function staleStatus(policy: PolicyObject, leaseMs: number, now: string): Record<string, unknown> {
  const status = policy.status ?? {};
  const stale = {
    type: STALE_CONDITION,
    status: 'True',
    reason: STALE_REASON,
    message:
      `no replica has been able to act on it for more than the lease duration (${leaseMs / 1000} s): ` +
      'the shard view is not agreed or its owner is gone',
    lastTransitionTime: now,
    ...(policy.metadata?.generation === undefined ? {} : { observedGeneration: policy.metadata.generation }),
  };
  return { ...status, conditions: [...conditionsOf(status).filter((c) => c.type !== STALE_CONDITION), stale] };
}

export interface StaleMarking {
  kube: KubeClient;
  clock: Clock;
  logger: Logger;
  leaseMs: number;
  /** The policy as cached, to skip the ones that show the condition already (no read, no write). */
  cached(key: PolicyKey): PolicyObject | undefined;
}

/**
 * Writes `Stale=True` on each policy that does not show it yet: a read of the policy and one status
 * write guarded by its resourceVersion (re-read on a 409; nothing written when it shows the condition
 * by then). The owner's next tick removes the condition (src/runtime/tick/write.ts). Returns how many
 * it wrote; a failure is logged and left for the next round.
 */
export async function markStale(marking: StaleMarking, keys: readonly PolicyKey[]): Promise<number> {
  let written = 0;
  for (const key of keys) {
    if (showsStale(marking.cached(key))) continue;
    let wrote = false;
    try {
      await readModifyWrite(
        () => marking.kube.readPolicy(key.namespace, key.name),
        (current) => (current && !showsStale(current) ? current : undefined),
        async (current) => {
          const status = staleStatus(current, marking.leaseMs, isoNow(marking.clock));
          const result = await marking.kube.writePolicyStatus(current, status);
          wrote = true;
          return result;
        },
      );
      if (!wrote) continue;
      written += 1;
      marking.logger.warn({ policy: `${key.namespace}/${key.name}` }, 'policy without a live owner: Stale=True');
    } catch (error) {
      marking.logger.warn({ policy: `${key.namespace}/${key.name}`, err: errorLine(error) }, 'could not mark stale');
    }
  }
  return written;
}
