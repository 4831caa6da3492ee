import { isRecord, type KObject } from './types.js';

/**
 * The fields of the built-in kinds, as their Go types know them: what the decoder drops (and
 * reports as unknown, 400 under fieldValidation=Strict). `true` means "anything below"; a tree
 * under a list applies to each element. Deep parts the sandbox does not model are open.
 */
type Fields = { [key: string]: Fields | true };

const OPEN = true;

const META: Fields = Object.fromEntries(
  [
    'name',
    'generateName',
    'namespace',
    'selfLink',
    'uid',
    'resourceVersion',
    'generation',
    'creationTimestamp',
    'deletionTimestamp',
    'deletionGracePeriodSeconds',
    'labels',
    'annotations',
    'ownerReferences',
    'finalizers',
    'managedFields',
  ].map((k) => [k, OPEN]),
);

function open(keys: string): Fields {
  return Object.fromEntries(keys.split(' ').map((k) => [k, OPEN]));
}

const CONTAINER: Fields = {
  ...open(
    'name image command args workingDir ports envFrom env resizePolicy restartPolicy volumeMounts volumeDevices ' +
      'livenessProbe readinessProbe startupProbe lifecycle terminationMessagePath terminationMessagePolicy ' +
      'imagePullPolicy securityContext stdin stdinOnce tty',
  ),
  resources: open('limits requests claims'),
};

const POD_SPEC: Fields = {
  ...open(
    'volumes ephemeralContainers restartPolicy terminationGracePeriodSeconds activeDeadlineSeconds dnsPolicy ' +
      'nodeSelector serviceAccountName serviceAccount automountServiceAccountToken nodeName hostNetwork hostPID ' +
      'hostIPC shareProcessNamespace securityContext imagePullSecrets hostname subdomain affinity schedulerName ' +
      'tolerations hostAliases priorityClassName priority dnsConfig readinessGates runtimeClassName ' +
      'enableServiceLinks preemptionPolicy overhead topologySpreadConstraints setHostnameAsFQDN os hostUsers ' +
      'schedulingGates resourceClaims resources',
  ),
  containers: CONTAINER,
  initContainers: CONTAINER,
};

const TEMPLATE: Fields = { metadata: META, spec: POD_SPEC };

const SPEC_AND_STATUS: Fields = open('spec status');

const KINDS: Record<string, Fields> = {
  'apps/Deployment': {
    spec: {
      ...open('replicas selector minReadySeconds revisionHistoryLimit paused progressDeadlineSeconds'),
      template: TEMPLATE,
      strategy: { type: OPEN, rollingUpdate: open('maxUnavailable maxSurge') },
    },
    status: OPEN,
  },
  'apps/ReplicaSet': { spec: { ...open('replicas minReadySeconds selector'), template: TEMPLATE }, status: OPEN },
  '/Pod': { spec: POD_SPEC, status: OPEN },
  '/ConfigMap': open('data binaryData immutable'),
  '/Secret': open('data stringData type immutable'),
  '/Service': SPEC_AND_STATUS,
  '/Namespace': SPEC_AND_STATUS,
  '/ServiceAccount': open('secrets imagePullSecrets automountServiceAccountToken'),
  '/Event': open(
    'involvedObject reason message source firstTimestamp lastTimestamp count type eventTime series action related ' +
      'reportingComponent reportingInstance',
  ),
  'events.k8s.io/Event': open(
    'involvedObject reason message source firstTimestamp lastTimestamp count type eventTime series action related ' +
      'reportingComponent reportingInstance',
  ),
  'coordination.k8s.io/Lease': {
    spec: open('holderIdentity leaseDurationSeconds acquireTime renewTime leaseTransitions strategy preferredHolder'),
  },
  'networking.k8s.io/Ingress': SPEC_AND_STATUS,
  'apiextensions.k8s.io/CustomResourceDefinition': SPEC_AND_STATUS,
  'rbac.authorization.k8s.io/Role': open('rules'),
  'rbac.authorization.k8s.io/ClusterRole': open('rules aggregationRule'),
  'rbac.authorization.k8s.io/RoleBinding': open('subjects roleRef'),
  'rbac.authorization.k8s.io/ClusterRoleBinding': open('subjects roleRef'),
};

function prune(value: unknown, fields: Fields, path: string, unknown: string[]): void {
  if (Array.isArray(value)) {
    value.forEach((item, i) => prune(item, fields, `${path}[${i}]`, unknown));
    return;
  }
  if (!isRecord(value)) return;
  for (const key of Object.keys(value)) {
    const known = fields[key];
    const at = path ? `${path}.${key}` : key;
    if (known === undefined) {
      unknown.push(at);
      delete value[key];
    } else if (known !== OPEN) prune(value[key], known, at, unknown);
  }
}

/** Drops the fields a built-in kind does not have (in place); returns their paths. */
export function pruneBuiltin(groupKind: string, object: KObject): string[] {
  const fields = KINDS[groupKind];
  if (!fields) return [];
  const unknown: string[] = [];
  prune(object, { apiVersion: OPEN, kind: OPEN, metadata: META, ...fields }, '', unknown);
  return unknown;
}
