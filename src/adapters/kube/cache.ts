import type {
  CoreV1Event,
  KubernetesObject,
  V1Deployment,
  V1Pod,
  V1ReplicaSet,
  V2HorizontalPodAutoscaler,
} from '@kubernetes/client-node';
import type { PolicyKey } from './names.js';

/** A RolloutPolicy as stored in the cluster: spec unparsed (the reconciler validates it), status as written. */
export interface PolicyObject extends KubernetesObject {
  spec?: unknown;
  status?: Record<string, unknown>;
}

/**
 * What the reconciler reads, served from the informers' caches (never a list per tick). Every
 * answer is a snapshot the caller must not mutate. Writes go to the API server, never here.
 */
export interface ClusterCache {
  policy(key: PolicyKey): PolicyObject | undefined;
  deployment(namespace: string, name: string): V1Deployment | undefined;
  /** ReplicaSets of a namespace whose labels match every pair of `selector`. */
  replicaSets(namespace: string, selector: Record<string, string>): V1ReplicaSet[];
  pods(namespace: string, selector: Record<string, string>): V1Pod[];
  /** Warning Events of a namespace about the object of this kind and name (the informer keeps only type=Warning). */
  events(namespace: string, involved: { kind: string; name: string }): CoreV1Event[];
  /** The HorizontalPodAutoscalers whose scaleTargetRef is this Deployment (the user's, or Kubestead's of a primary). */
  autoscalers(namespace: string, deployment: string): V2HorizontalPodAutoscaler[];
  /** True when every informer has listed and none is stale. */
  synced(): boolean;
}
