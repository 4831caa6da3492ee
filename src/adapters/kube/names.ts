/** Names and marks Kubestead puts on the objects it touches (the conventions shared by every module). */
export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'kubestead' } as const;
export const ROLE_LABEL = 'kubestead.io/role';
export const OVERRIDE_ANNOTATION = 'kubestead.io/override';
export const FINALIZER = 'kubestead.io/finalizer';
export const CONTROLLER_NAME = 'kubestead.io/controller';
export const POLICY_GROUP = 'kubestead.io';
export const POLICY_VERSION = 'v1alpha1';
export const POLICY_PLURAL = 'rolloutpolicies';
/** The Lease the replicas of `kubestead run --leader-elect` hold; `kubestead status` reads it too. */
export const LEADER_LEASE = 'kubestead-controller';
/** Where the shipped manifest runs the controller, and so its Lease. */
export const CONTROLLER_NAMESPACE = 'kubestead-system';

export const primaryName = (target: string): string => `${target}-primary`;
