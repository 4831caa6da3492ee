import type { KObject } from './types.js';

/**
 * The built-in ClusterRoles a cluster starts with (cluster-admin, and the aggregated admin, edit
 * and view), with the rules of the real ones for the resources the sandbox serves. Roles labelled
 * `rbac.authorization.k8s.io/aggregate-to-view` (edit, admin) join them, as in a cluster.
 */

const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'delete', 'deletecollection', 'patch', 'update'];

const rule = (apiGroups: string[], resources: string[], verbs: string[]): Record<string, string[]> => ({
  apiGroups,
  resources,
  verbs,
});

const VIEW_RULES = [
  rule(
    [''],
    [
      'configmaps',
      'endpoints',
      'persistentvolumeclaims',
      'pods',
      'pods/status',
      'replicationcontrollers',
      'services',
      'services/status',
      'serviceaccounts',
      'events',
      'namespaces',
      'namespaces/status',
      'limitranges',
      'resourcequotas',
    ],
    READ,
  ),
  rule(
    ['apps'],
    [
      'deployments',
      'deployments/scale',
      'deployments/status',
      'replicasets',
      'replicasets/scale',
      'replicasets/status',
      'statefulsets',
      'daemonsets',
      'controllerrevisions',
    ],
    READ,
  ),
  rule(['events.k8s.io'], ['events'], READ),
  rule(['networking.k8s.io'], ['ingresses', 'ingresses/status', 'networkpolicies'], READ),
];

const EDIT_RULES = [
  rule([''], ['secrets'], READ),
  rule(
    [''],
    [
      'configmaps',
      'endpoints',
      'persistentvolumeclaims',
      'pods',
      'replicationcontrollers',
      'services',
      'serviceaccounts',
      'secrets',
    ],
    WRITE,
  ),
  rule(
    ['apps'],
    [
      'deployments',
      'deployments/scale',
      'deployments/rollback',
      'replicasets',
      'replicasets/scale',
      'statefulsets',
      'daemonsets',
    ],
    WRITE,
  ),
  rule(['networking.k8s.io'], ['ingresses', 'networkpolicies'], WRITE),
  rule(['coordination.k8s.io'], ['leases'], [...READ, ...WRITE]),
];

const ADMIN_RULES = [
  rule(['rbac.authorization.k8s.io'], ['roles', 'rolebindings'], [...READ, ...WRITE]),
  rule(['authorization.k8s.io'], ['localsubjectaccessreviews'], ['create']),
];

const DEFAULTS = { 'kubernetes.io/bootstrapping': 'rbac-defaults' };
const ANNOTATIONS = { 'rbac.authorization.kubernetes.io/autoupdate': 'true' };

function aggregated(name: string, labels: Record<string, string>): KObject {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name, labels: { ...DEFAULTS, ...labels }, annotations: ANNOTATIONS },
    aggregationRule: {
      clusterRoleSelectors: [{ matchLabels: { [`rbac.authorization.k8s.io/aggregate-to-${name}`]: 'true' } }],
    },
    rules: [],
  };
}

function member(name: string, labels: Record<string, string>, rules: Array<Record<string, string[]>>): KObject {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name, labels: { ...DEFAULTS, ...labels }, annotations: ANNOTATIONS },
    rules,
  };
}

const TO = (...names: string[]): Record<string, string> =>
  Object.fromEntries(names.map((n) => [`rbac.authorization.k8s.io/aggregate-to-${n}`, 'true']));

export const DEFAULT_CLUSTER_ROLES: KObject[] = [
  member('cluster-admin', {}, [rule(['*'], ['*'], ['*']), { nonResourceURLs: ['*'], verbs: ['*'] }]),
  aggregated('admin', {}),
  aggregated('edit', TO('admin')),
  aggregated('view', TO('edit')),
  member('system:aggregate-to-admin', TO('admin'), ADMIN_RULES),
  member('system:aggregate-to-edit', TO('edit'), EDIT_RULES),
  member('system:aggregate-to-view', TO('view'), VIEW_RULES),
];
