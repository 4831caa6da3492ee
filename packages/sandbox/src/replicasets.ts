import type { Api } from './api.js';
import { isPodReady, newPod } from './pods.js';
import type { ResourceType } from './registry.js';
import { isRecord, type KObject } from './types.js';

function desired(rs: KObject): number {
  const r = isRecord(rs.spec) ? rs.spec.replicas : undefined;
  return typeof r === 'number' ? r : 1;
}

function minReadyMs(rs: KObject): number {
  const m = isRecord(rs.spec) ? rs.spec.minReadySeconds : undefined;
  return typeof m === 'number' ? m * 1000 : 0;
}

/** When a ready pod became ready (its Ready condition's lastTransitionTime). */
function readySince(pod: KObject): number {
  const conditions = isRecord(pod.status) && Array.isArray(pod.status.conditions) ? pod.status.conditions : [];
  const ready = conditions.find((c) => isRecord(c) && c.type === 'Ready') as
    { lastTransitionTime?: string } | undefined;
  return Date.parse(ready?.lastTransitionTime ?? '') || 0;
}

export interface ReplicaSetHooks {
  /** Look at this ReplicaSet again after `ms` (a pod becomes available once minReadySeconds passed). */
  requeueAfter(rs: KObject, ms: number): void;
  nowMs(): number;
}

/**
 * The ReplicaSet controller: as many pods as spec.replicas, and a status that counts them (available after
 * minReadySeconds).
 */
export class ReplicaSetReconciler {
  constructor(
    private readonly api: Api,
    private readonly types: { replicasets: ResourceType; pods: ResourceType },
    private readonly hooks: ReplicaSetHooks,
  ) {}

  podsOf(rs: KObject): KObject[] {
    return this.api.store
      .dependentsOf(rs.metadata.uid)
      .filter(({ gr, object }) => gr === '/pods' && object.metadata.namespace === rs.metadata.namespace)
      .map(({ object }) => object)
      .filter(
        (p) =>
          !p.metadata.deletionTimestamp &&
          (p.metadata.ownerReferences ?? []).some((r) => r.controller && r.uid === rs.metadata.uid),
      );
  }

  reconcile(rs: KObject): void {
    if (rs.metadata.deletionTimestamp) return;
    let pods = this.podsOf(rs);
    const diff = desired(rs) - pods.length;
    // the kubelet starts each pod when it sees it (Workloads)
    for (let i = 0; i < diff; i++) this.api.createAsSystem(this.types.pods, newPod(rs, this.api.now()));
    if (diff < 0) {
      const order = [...pods].sort(
        (a, b) =>
          Number(isPodReady(a)) - Number(isPodReady(b)) ||
          (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? ''),
      );
      for (const pod of order.slice(0, -diff))
        this.api.delete({ type: this.types.pods, namespace: pod.metadata.namespace, name: pod.metadata.name ?? '' });
    }
    if (diff !== 0) pods = this.podsOf(rs);
    const ready = pods.filter(isPodReady);
    const available = this.available(rs, ready);
    const fresh = this.api.find(this.types.replicasets, rs.metadata.namespace, rs.metadata.name ?? '') ?? rs;
    const status: Record<string, unknown> = {
      replicas: pods.length,
      fullyLabeledReplicas: pods.length,
      observedGeneration: fresh.metadata.generation,
    };
    if (ready.length > 0) status.readyReplicas = ready.length;
    if (available > 0) status.availableReplicas = available;
    this.api.saveAsSystem(this.types.replicasets, { ...fresh, status }, 'status');
  }

  /** Ready pods that have been ready for minReadySeconds; the others are looked at again when they will be. */
  private available(rs: KObject, ready: KObject[]): number {
    const minReady = minReadyMs(rs);
    if (minReady === 0) return ready.length;
    const now = this.hooks.nowMs();
    const waits = ready.map((p) => readySince(p) + minReady - now);
    const pending = waits.filter((w) => w > 0);
    if (pending.length > 0) this.hooks.requeueAfter(rs, Math.min(...pending) + 1);
    return waits.length - pending.length;
  }
}
