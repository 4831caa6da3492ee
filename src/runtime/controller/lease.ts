import {
  ApiException,
  V1MicroTime,
  type CoordinationV1Api,
  type V1Lease,
  type V1LeaseSpec,
  type V1ObjectMeta,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Clock } from '../../lib/clock/clock.js';
import { errorLine } from '../../adapters/kube/errors.js';
import { withSignal } from '../../adapters/kube/requests.js';

/**
 * What leader election (leader.ts) and shard membership (shards.ts) do alike with a
 * coordination.k8s.io/v1 Lease: read it, note when its record last changed, renew on a retry period,
 * hand it back. Times are MicroTime (six fractional digits), as the API server requires.
 */

/** A Lease time in ms as the MicroTime the API server requires. */
export const micro = (ms: number): V1MicroTime => new V1MicroTime(ms);

const timeText = (value: unknown): string =>
  value instanceof Date ? value.toISOString() : typeof value === 'string' ? value : '';

/** One Lease of one namespace, through the process's coordination.k8s.io client. */
export interface LeaseRef {
  api: CoordinationV1Api;
  name: string;
  namespace: string;
}

/** What this replica last saw of a Lease record, and when (on its own clock: other replicas' clocks may be skewed). */
export interface LeaseRecord {
  holder: string;
  renewTime: string;
  resourceVersion: string;
  at: number;
}

/** The record of `lease` seen at `now`: `seen` itself (with its time) while the record has not changed. */
export function observeLease(lease: V1Lease, seen: LeaseRecord | undefined, now: number): LeaseRecord {
  const current: LeaseRecord = {
    holder: lease.spec?.holderIdentity ?? '',
    renewTime: timeText(lease.spec?.renewTime),
    resourceVersion: lease.metadata?.resourceVersion ?? '',
    at: now,
  };
  const same =
    seen !== undefined &&
    seen.holder === current.holder &&
    seen.renewTime === current.renewTime &&
    seen.resourceVersion === current.resourceVersion;
  return same ? seen : current;
}

/** The record has not changed for the Lease's own duration (`fallbackMs` when it states none), on this replica's clock. */
export function lapsed(record: LeaseRecord, lease: V1Lease, fallbackMs: number, now: number): boolean {
  const durationMs = (lease.spec?.leaseDurationSeconds ?? fallbackMs / 1000) * 1000;
  return record.at + durationMs <= now;
}

/** The Lease, or null when there is none. */
export async function readLease(ref: LeaseRef, signal: AbortSignal): Promise<V1Lease | null> {
  try {
    return await ref.api.readNamespacedLease({ name: ref.name, namespace: ref.namespace }, withSignal(signal));
  } catch (error) {
    if (error instanceof ApiException && error.code === 404) return null;
    throw error;
  }
}

/** The spec of a Lease held by `identity`, renewed `now`: acquired now unless it was ours, one more transition when it was not. */
function heldSpec(identity: string, leaseMs: number, now: number, current: V1LeaseSpec | undefined): V1LeaseSpec {
  const ours = current?.holderIdentity === identity;
  const acquired = ours && current?.acquireTime ? new Date(current.acquireTime).getTime() : now;
  return {
    holderIdentity: identity,
    leaseDurationSeconds: Math.ceil(leaseMs / 1000),
    acquireTime: micro(acquired),
    renewTime: micro(now),
    leaseTransitions: (current?.leaseTransitions ?? 0) + (current && !ours ? 1 : 0),
  };
}

export interface Hold {
  identity: string;
  leaseMs: number;
  now: number;
  /** Labels and annotations to set on the Lease (each replaces the one there). */
  metadata?: Pick<V1ObjectMeta, 'labels' | 'annotations'>;
}

/**
 * Acquires or renews the Lease for `hold.identity`: creates it when there is none (`current` null),
 * else replaces `current`, guarded by its resourceVersion, so that of two replicas writing one
 * record only one succeeds.
 */
export async function holdLease(
  ref: LeaseRef,
  hold: Hold,
  current: V1Lease | null,
  signal: AbortSignal,
): Promise<void> {
  const spec = heldSpec(hold.identity, hold.leaseMs, hold.now, current?.spec);
  const metadata: V1ObjectMeta = { ...current?.metadata, ...hold.metadata, name: ref.name, namespace: ref.namespace };
  if (!current) {
    await ref.api.createNamespacedLease({ namespace: ref.namespace, body: { metadata, spec } }, withSignal(signal));
    return;
  }
  await ref.api.replaceNamespacedLease(
    { name: ref.name, namespace: ref.namespace, body: { ...current, metadata, spec } },
    withSignal(signal),
  );
}

/**
 * Runs `round` once every retry period until `stopping` aborts; each round's signal aborts when its
 * period ends (`timedOut` names that), so that a slow API server never stacks rounds.
 */
export async function everyRetryPeriod(
  timing: { clock: Clock; retryMs: number; stopping: AbortSignal; timedOut: string },
  round: (signal: AbortSignal) => Promise<void>,
): Promise<void> {
  while (!timing.stopping.aborted) {
    const attempt = new AbortController();
    const cutoff = timing.clock.sleep(timing.retryMs, timing.stopping).then(
      () => attempt.abort(new Error(timing.timedOut)),
      () => attempt.abort(),
    );
    await round(attempt.signal);
    await cutoff;
  }
}

export interface Release extends LeaseRef {
  identity: string;
  clock: Clock;
  logger: Logger;
  retryMs: number;
  /** How the log lines name the Lease: `lease`, `membership lease`. */
  what: string;
}

/**
 * Hands the Lease back (holder empty, duration 1 s) when this replica holds it, within one retry
 * period, so that the others take over at their next read instead of after a lease duration.
 */
export async function releaseLease(release: Release): Promise<void> {
  const attempt = new AbortController();
  const timer = new AbortController();
  void release.clock.sleep(release.retryMs, timer.signal).then(
    () => attempt.abort(new Error(`${release.what} release timed out`)),
    () => undefined,
  );
  try {
    const lease = await readLease(release, attempt.signal);
    if (!lease || lease.spec?.holderIdentity !== release.identity) return;
    const now = release.clock.now();
    const spec = { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: micro(now) };
    await release.api.replaceNamespacedLease(
      {
        name: release.name,
        namespace: release.namespace,
        body: { ...lease, spec: { ...spec, acquireTime: micro(now) } },
      },
      withSignal(attempt.signal),
    );
    release.logger.info({ lease: `${release.namespace}/${release.name}` }, `released the ${release.what}`);
  } catch (error) {
    release.logger.warn(
      { err: errorLine(error) },
      `could not release the ${release.what}; the others take over after the lease duration`,
    );
  } finally {
    timer.abort();
  }
}
