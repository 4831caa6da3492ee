/** Names and marks Kubestead puts on the objects it touches (the conventions shared by every module). */
export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'kubestead' } as const;
export const ROLE_LABEL = 'kubestead.io/role';
export const OVERRIDE_ANNOTATION = 'kubestead.io/override';
export const FINALIZER = 'kubestead.io/finalizer';
export const CONTROLLER_NAME = 'kubestead.io/controller';
export const POLICY_GROUP = 'kubestead.io';
export const POLICY_VERSION = 'v1alpha1';
export const POLICY_PLURAL = 'rolloutpolicies';

export const primaryName = (target: string): string => `${target}-primary`;
