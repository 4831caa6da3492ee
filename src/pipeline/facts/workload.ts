import type { V1Deployment, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import type { ClusterCache } from '../../adapters/kube/cache.js';

/** The live replica state the snapshot's `rollout.canary`, `rollout.stable` and `kube` come from. */
export interface WorkloadState {
  canary: { desiredReplicas: number; readyReplicas: number; restarts: number };
  stable: { desiredReplicas: number; readyReplicas: number };
  warningEvents: number;
  reasons: Record<string, number>;
}

const REVISION = 'deployment.kubernetes.io/revision';

const revisionOf = (rs: V1ReplicaSet): number => Number(rs.metadata?.annotations?.[REVISION] ?? 0);

/** The Deployment's own ReplicaSet of its current template (ownerReference, then the newest revision). */
export function currentReplicaSet(cache: ClusterCache, deployment: V1Deployment): V1ReplicaSet | undefined {
  const namespace = deployment.metadata?.namespace ?? '';
  const uid = deployment.metadata?.uid;
  const owned = cache
    .replicaSets(namespace, deployment.spec?.selector?.matchLabels ?? {})
    .filter((rs) => rs.metadata?.ownerReferences?.some((ref) => ref.controller === true && ref.uid === uid));
  const wanted = deployment.metadata?.annotations?.[REVISION];
  return (
    owned.find((rs) => wanted !== undefined && rs.metadata?.annotations?.[REVISION] === wanted) ??
    owned.sort((a, b) => revisionOf(b) - revisionOf(a))[0]
  );
}

/**
 * The pods of a Deployment's current ReplicaSet. Primary and target select overlapping labels, so
 * a canary pod is told apart by its owner (and so by its ReplicaSet's pod-template-hash), never by labels alone.
 */
export function currentPods(cache: ClusterCache, deployment: V1Deployment): V1Pod[] {
  const rs = currentReplicaSet(cache, deployment);
  if (!rs) return [];
  const hash = rs.metadata?.labels?.['pod-template-hash'];
  const selector = {
    ...(deployment.spec?.selector?.matchLabels ?? {}),
    ...(hash ? { 'pod-template-hash': hash } : {}),
  };
  return cache
    .pods(deployment.metadata?.namespace ?? '', selector)
    .filter(
      (pod) =>
        !pod.metadata?.deletionTimestamp && pod.metadata?.ownerReferences?.some((ref) => ref.uid === rs.metadata?.uid),
    );
}

const isReady = (pod: V1Pod): boolean =>
  pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
const restartsOf = (pod: V1Pod): number =>
  (pod.status?.containerStatuses ?? []).reduce((n, cs) => n + (cs.restartCount ?? 0), 0);

function warningsOf(cache: ClusterCache, pods: V1Pod[]): Pick<WorkloadState, 'warningEvents' | 'reasons'> {
  const reasons: Record<string, number> = {};
  let warningEvents = 0;
  for (const pod of pods) {
    for (const event of cache.events(pod.metadata?.namespace ?? '', { kind: 'Pod', name: pod.metadata?.name ?? '' })) {
      if (event.type !== 'Warning') continue;
      const count = event.count ?? 1;
      warningEvents += count;
      const reason = event.reason ?? 'Unknown';
      reasons[reason] = (reasons[reason] ?? 0) + count;
    }
  }
  return { warningEvents, reasons };
}

/** The canary (the target's current pods) and the stable side (primary, or nothing yet). */
export function workloadState(
  cache: ClusterCache,
  target: V1Deployment,
  primary: V1Deployment | undefined,
): WorkloadState {
  const pods = currentPods(cache, target);
  return {
    canary: {
      desiredReplicas: target.spec?.replicas ?? 1,
      readyReplicas: pods.filter(isReady).length,
      restarts: pods.reduce((n, p) => n + restartsOf(p), 0),
    },
    stable: { desiredReplicas: primary?.spec?.replicas ?? 0, readyReplicas: primary?.status?.readyReplicas ?? 0 },
    ...warningsOf(cache, pods),
  };
}
