import { rolloutPolicyCrd } from '../../pipeline/policy/crd.js';
import { CLUSTER_RULES, manifestRule, NAMESPACE_RULES, SECRET_TRACKING_RULES } from './rbac.js';

export type Manifest = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
};

export const NAMESPACE = 'kubestead-system';
export const NAME = 'kubestead-controller';
/** The image the Dockerfile builds; its tag follows package.json's version (a test checks it). */
export const IMAGE = 'ghcr.io/kubestead/kubestead:0.1.0';
export const METRICS_PORT = 8080;
export const HEALTH_PORT = 8081;

const LABELS = { 'app.kubernetes.io/name': 'kubestead', 'app.kubernetes.io/component': 'controller' };
const meta = (name: string, namespaced = true) => ({
  name,
  ...(namespaced ? { namespace: NAMESPACE } : {}),
  labels: { ...LABELS },
});

function namespace(): Manifest {
  const podSecurity = {
    'pod-security.kubernetes.io/enforce': 'restricted',
    'pod-security.kubernetes.io/enforce-version': 'latest',
  };
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE, labels: { ...LABELS, ...podSecurity } } };
}

const RBAC_GROUP = 'rbac.authorization.k8s.io';
const SUBJECTS = [{ kind: 'ServiceAccount', name: NAME, namespace: NAMESPACE }];
export const SECRET_TRACKING_ROLE = 'kubestead-secret-tracking';

function rbac(): Manifest[] {
  const subjects = SUBJECTS;
  const group = RBAC_GROUP;
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(NAME) },
    {
      apiVersion: `${group}/v1`,
      kind: 'ClusterRole',
      metadata: meta(NAME, false),
      rules: CLUSTER_RULES.map(manifestRule),
    },
    {
      apiVersion: `${group}/v1`,
      kind: 'ClusterRoleBinding',
      metadata: meta(NAME, false),
      roleRef: { apiGroup: group, kind: 'ClusterRole', name: NAME },
      subjects,
    },
    {
      apiVersion: `${group}/v1`,
      kind: 'Role',
      metadata: meta('kubestead-leader-election'),
      rules: NAMESPACE_RULES.map(manifestRule),
    },
    {
      apiVersion: `${group}/v1`,
      kind: 'RoleBinding',
      metadata: meta('kubestead-leader-election'),
      roleRef: { apiGroup: group, kind: 'Role', name: 'kubestead-leader-election' },
      subjects,
    },
  ];
}

/**
 * The kustomize component `deploy/components/secret-tracking` (docs/operating.md, "Secret tracking"):
 * a ClusterRole with the Secret writes `configTracking: {secrets: true}` needs, bound to the controller.
 */
export function secretTrackingObjects(): Manifest[] {
  return [
    {
      apiVersion: `${RBAC_GROUP}/v1`,
      kind: 'ClusterRole',
      metadata: meta(SECRET_TRACKING_ROLE, false),
      rules: SECRET_TRACKING_RULES.map(manifestRule),
    },
    {
      apiVersion: `${RBAC_GROUP}/v1`,
      kind: 'ClusterRoleBinding',
      metadata: meta(SECRET_TRACKING_ROLE, false),
      roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: SECRET_TRACKING_ROLE },
      subjects: SUBJECTS,
    },
  ];
}

/** Pod Security "restricted": non-root, read-only root, no capabilities, no escalation, RuntimeDefault seccomp. */
function container(): Record<string, unknown> {
  const probe = (path: string, periodSeconds: number) => ({
    httpGet: { path, port: 'health' },
    periodSeconds,
    timeoutSeconds: 2,
    failureThreshold: 3,
  });
  const fromField = (fieldPath: string) => ({ valueFrom: { fieldRef: { fieldPath } } });
  return {
    name: 'controller',
    image: IMAGE,
    imagePullPolicy: 'IfNotPresent',
    args: ['--leader-elect', `--metrics-addr=:${METRICS_PORT}`, `--health-addr=:${HEALTH_PORT}`, '--log-level=info'],
    env: [
      { name: 'POD_NAMESPACE', ...fromField('metadata.namespace') },
      { name: 'POD_NAME', ...fromField('metadata.name') },
    ],
    ports: [
      { name: 'metrics', containerPort: METRICS_PORT, protocol: 'TCP' },
      { name: 'health', containerPort: HEALTH_PORT, protocol: 'TCP' },
    ],
    livenessProbe: { ...probe('/healthz', 20), initialDelaySeconds: 10 },
    readinessProbe: probe('/readyz', 10),
    resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1', memory: '512Mi' } },
    securityContext: {
      runAsNonRoot: true,
      runAsUser: 65532,
      runAsGroup: 65532,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    },
    volumeMounts: [
      { name: 'tmp', mountPath: '/tmp' },
      { name: 'spool', mountPath: '/var/lib/kubestead' },
    ],
  };
}

function deployment(): Manifest {
  const antiAffinity = {
    preferredDuringSchedulingIgnoredDuringExecution: [
      {
        weight: 100,
        podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { ...LABELS } } },
      },
    ],
  };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(NAME),
    spec: {
      replicas: 2,
      selector: { matchLabels: { ...LABELS } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: { labels: { ...LABELS } },
        spec: {
          serviceAccountName: NAME,
          securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
          terminationGracePeriodSeconds: 30,
          affinity: { podAntiAffinity: antiAffinity },
          containers: [container()],
          volumes: [
            { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
            { name: 'spool', emptyDir: { sizeLimit: '256Mi' } },
          ],
        },
      },
    },
  };
}

function metricsService(): Manifest {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(`${NAME}-metrics`),
    spec: {
      type: 'ClusterIP',
      selector: { ...LABELS },
      ports: [{ name: 'metrics', port: METRICS_PORT, targetPort: 'metrics', protocol: 'TCP' }],
    },
  };
}

function disruptionBudget(): Manifest {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: meta(NAME),
    spec: { minAvailable: 1, selector: { matchLabels: { ...LABELS } } },
  };
}

/** One install unit, grouped as the kustomize base splits it into files (in apply order). */
export function controllerFiles(): Array<{ file: string; objects: Manifest[] }> {
  return [
    { file: 'namespace.yaml', objects: [namespace()] },
    { file: 'crd.yaml', objects: [rolloutPolicyCrd() as Manifest] },
    { file: 'rbac.yaml', objects: rbac() },
    { file: 'deployment.yaml', objects: [deployment()] },
    { file: 'service.yaml', objects: [metricsService()] },
    { file: 'pdb.yaml', objects: [disruptionBudget()] },
  ];
}

/** Every object of `deploy/kubestead-controller.yaml`, in apply order. */
export function controllerObjects(): Manifest[] {
  return controllerFiles().flatMap((f) => f.objects);
}
