import { isRecord, type KObject } from './types.js';

/**
 * The deployment controller's `sync` path (sync.go): a scaling event (spec.replicas changed, or a
 * paused Deployment scaled) resizes the active ReplicaSets without rolling: the only active one
 * takes the full count; otherwise the change is split in proportion to their sizes.
 */

export const DESIRED = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS = 'deployment.kubernetes.io/max-replicas';

export function replicasOf(o: KObject | undefined): number {
  const r = o && isRecord(o.spec) ? o.spec.replicas : undefined;
  return typeof r === 'number' ? r : 1;
}

function available(o: KObject): number {
  const v = isRecord(o.status) ? o.status.availableReplicas : undefined;
  return typeof v === 'number' ? v : 0;
}

function created(o: KObject): string {
  return o.metadata.creationTimestamp ?? '';
}

/** True when an active ReplicaSet was sized for another spec.replicas than the Deployment's now. */
export function isScalingEvent(d: KObject, all: KObject[]): boolean {
  return all.some(
    (rs) =>
      replicasOf(rs) > 0 &&
      rs.metadata.annotations?.[DESIRED] !== undefined &&
      rs.metadata.annotations[DESIRED] !== String(replicasOf(d)),
  );
}

/** getReplicaSetFraction: how many replicas this ReplicaSet gains (or loses) of the change. */
function fraction(rs: KObject, d: KObject, maxSurge: number): number {
  if (replicasOf(d) === 0) return -replicasOf(rs);
  const annotated =
    Number(rs.metadata.annotations?.[MAX_REPLICAS] ?? (isRecord(d.status) ? d.status.replicas : 0)) || 0;
  if (annotated === 0) return 0;
  return Math.round((replicasOf(rs) * (replicasOf(d) + maxSurge)) / annotated) - replicasOf(rs);
}

function proportion(rs: KObject, d: KObject, change: { toAdd: number; added: number; maxSurge: number }): number {
  if (replicasOf(rs) === 0 || change.toAdd === 0 || change.toAdd === change.added) return 0;
  const allowed = change.toAdd - change.added;
  const share = fraction(rs, d, change.maxSurge);
  return change.toAdd > 0 ? Math.min(share, allowed) : Math.max(share, allowed);
}

/** The sizes the ReplicaSets get from a scaling event (ReplicaSets not listed keep theirs). */
export function scaledSizes(
  d: KObject,
  newRs: KObject | undefined,
  olds: KObject[],
  maxSurge: number,
): Map<KObject, number> {
  const all = newRs ? [newRs, ...olds] : olds;
  const active = all.filter((rs) => replicasOf(rs) > 0);
  const desired = replicasOf(d);
  if (active.length <= 1) {
    const latest = active[0] ?? newRs ?? [...olds].sort((a, b) => created(b).localeCompare(created(a)))[0];
    return new Map(latest ? [[latest, desired]] : []);
  }
  const saturated =
    newRs &&
    replicasOf(newRs) === desired &&
    newRs.metadata.annotations?.[DESIRED] === String(desired) &&
    available(newRs) === desired;
  if (saturated) return new Map(olds.filter((rs) => replicasOf(rs) > 0).map((rs) => [rs, 0]));
  return splitProportionally(d, active, maxSurge);
}

function splitProportionally(d: KObject, active: KObject[], maxSurge: number): Map<KObject, number> {
  const allowedSize = replicasOf(d) > 0 ? replicasOf(d) + maxSurge : 0;
  const toAdd = allowedSize - active.reduce((n, rs) => n + replicasOf(rs), 0);
  const newerFirst = (a: KObject, b: KObject): number => created(b).localeCompare(created(a));
  // larger first; among equals newer first when scaling up, older first when scaling down
  const ordered = [...active].sort(
    (a, b) => replicasOf(b) - replicasOf(a) || (toAdd >= 0 ? newerFirst(a, b) : -newerFirst(a, b)),
  );
  const sizes = new Map<KObject, number>();
  let added = 0;
  for (const rs of ordered) {
    const share = proportion(rs, d, { toAdd, added, maxSurge });
    sizes.set(rs, replicasOf(rs) + share);
    added += share;
  }
  const largest = ordered[0];
  if (largest && toAdd !== 0) sizes.set(largest, Math.max(0, (sizes.get(largest) ?? 0) + toAdd - added));
  return sizes;
}
