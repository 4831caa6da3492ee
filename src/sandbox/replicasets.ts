import type { Api } from './api.js';
import { isPodReady, newPod } from './pods.js';
import type { ResourceType } from './registry.js';
import { isRecord, type KObject } from './types.js';

function desired(rs: KObject): number {
  const r = isRecord(rs.spec) ? rs.spec.replicas : undefined;
  return typeof r === 'number' ? r : 1;
}

/** The ReplicaSet controller: as many pods as spec.replicas, and a status that counts them. */
export class ReplicaSetReconciler {
  constructor(private readonly api: Api, private readonly types: { replicasets: ResourceType; pods: ResourceType }, private readonly onPodCreated: (pod: KObject) => void) {}

  podsOf(rs: KObject): KObject[] {
    return this.api.store.list('/pods', rs.metadata.namespace)
      .filter((p) => !p.metadata.deletionTimestamp && (p.metadata.ownerReferences ?? []).some((r) => r.controller && r.uid === rs.metadata.uid));
  }

  reconcile(rs: KObject): void {
    if (rs.metadata.deletionTimestamp) return;
    let pods = this.podsOf(rs);
    const diff = desired(rs) - pods.length;
    for (let i = 0; i < diff; i++) {
      const pod = this.api.createAsSystem(this.types.pods, newPod(rs, this.api.now()));
      this.onPodCreated(pod);
    }
    if (diff < 0) {
      const order = [...pods].sort((a, b) => Number(isPodReady(a)) - Number(isPodReady(b)) || (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? ''));
      for (const pod of order.slice(0, -diff)) this.api.delete({ type: this.types.pods, namespace: pod.metadata.namespace, name: pod.metadata.name ?? '' });
    }
    if (diff !== 0) pods = this.podsOf(rs);
    const ready = pods.filter(isPodReady).length;
    const fresh = this.api.find(this.types.replicasets, rs.metadata.namespace, rs.metadata.name ?? '') ?? rs;
    const status: Record<string, unknown> = { replicas: pods.length, fullyLabeledReplicas: pods.length, observedGeneration: fresh.metadata.generation };
    if (ready > 0) Object.assign(status, { readyReplicas: ready, availableReplicas: ready });
    this.api.saveAsSystem(this.types.replicasets, { ...fresh, status }, 'status');
  }
}
