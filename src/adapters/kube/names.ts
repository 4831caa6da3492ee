import type { V1ObjectMeta, V1OwnerReference } from '@kubernetes/client-node';
import { API_VERSION, KIND } from '../../pipeline/policy/schema.js';

/** Names and marks Kubestead puts on the objects it touches: the conventions every module shares. */

const [GROUP = '', VERSION = ''] = API_VERSION.split('/');

/** The RolloutPolicy custom resource's coordinates, derived from the schema (one source). */
export const POLICY_RESOURCE = {
  group: GROUP,
  version: VERSION,
  plural: 'rolloutpolicies',
  kind: KIND,
  apiVersion: API_VERSION,
} as const;

/** The path parameters of one policy, as the custom-objects API takes them. */
export const policyPath = (namespace: string, name: string) => ({
  group: GROUP,
  version: VERSION,
  plural: POLICY_RESOURCE.plural,
  namespace,
  name,
});

/**
 * The policy as owner of what Kubestead creates beside the user's objects (garbage-collected with it, never blocking).
 */
export function policyOwner(name: string, uid: string): V1OwnerReference {
  return { apiVersion: API_VERSION, kind: KIND, name, uid, controller: false, blockOwnerDeletion: false };
}

/** The namespace and name of a RolloutPolicy: the unit of work of the queue. */
export interface PolicyKey {
  namespace: string;
  name: string;
}

export const keyString = (key: PolicyKey): string => `${key.namespace}/${key.name}`;

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = { [MANAGED_BY_LABEL]: 'kubestead' } as const;
export const ROLE_LABEL = 'kubestead.io/role';
export const OVERRIDE_ANNOTATION = 'kubestead.io/override';
export const FINALIZER = 'kubestead.io/finalizer';
export const CONTROLLER_NAME = 'kubestead.io/controller';
/** The Lease the replicas of `kubestead run --leader-elect` hold; `kubestead status` reads it too. */
export const LEADER_LEASE = 'kubestead-controller';
/** Where the shipped manifest runs the controller, and so its Lease. */
export const CONTROLLER_NAMESPACE = 'kubestead-system';

/** Labels and owner of every object Kubestead creates beside the user's. */
export function ownedMetadata(name: string, namespace: string, owner: V1OwnerReference): V1ObjectMeta {
  return { name, namespace, labels: { ...MANAGED_BY }, ownerReferences: [owner] };
}

export function isOwnedByKubestead(meta: V1ObjectMeta | undefined): boolean {
  return meta?.labels?.[MANAGED_BY_LABEL] === MANAGED_BY[MANAGED_BY_LABEL];
}
