import { canonicalQuantity } from './quantity.js';
import { isRecord } from './types.js';

/**
 * Equality of built-in objects as Kubernetes' controllers see it: they compare decoded Go values
 * (`equality.Semantic.DeepEqual`), not the JSON a client sent. So an absent field, its `null` and
 * its zero value are the same (Go decodes all three alike, and the encoder drops zero values), an
 * empty list or map is the same as none, and quantities compare by value (`0.5` is `500m`). Only
 * Go pointers keep their zero apart from absence (`terminationGracePeriodSeconds: 0`,
 * `securityContext: {}`, `emptyDir: {}`): those keys are listed here, for pod specs and workloads.
 */

/** Fields that are pointers to scalars in the Go types: 0, false and "" are values there, not absence. */
const POINTER_SCALARS = new Set([
  // Deployment / ReplicaSet specs
  'replicas',
  'revisionHistoryLimit',
  'progressDeadlineSeconds',
  // PodSpec
  'terminationGracePeriodSeconds',
  'activeDeadlineSeconds',
  'automountServiceAccountToken',
  'shareProcessNamespace',
  'priority',
  'enableServiceLinks',
  'setHostnameAsFQDN',
  'hostUsers',
  'runtimeClassName',
  'preemptionPolicy',
  // security contexts, containers, tolerations, volumes, probes
  'privileged',
  'runAsUser',
  'runAsGroup',
  'runAsNonRoot',
  'readOnlyRootFilesystem',
  'allowPrivilegeEscalation',
  'procMount',
  'fsGroup',
  'fsGroupChangePolicy',
  'restartPolicy',
  'tolerationSeconds',
  'defaultMode',
  'optional',
  'mode',
  'expirationSeconds',
  'sizeLimit',
]);

/** Fields that are pointers to structs: `{}` there is a value (an empty emptyDir is still a volume). */
const POINTER_STRUCTS = new Set([
  'securityContext',
  'affinity',
  'nodeAffinity',
  'podAffinity',
  'podAntiAffinity',
  'dnsConfig',
  'os',
  'lifecycle',
  'livenessProbe',
  'readinessProbe',
  'startupProbe',
  'exec',
  'httpGet',
  'tcpSocket',
  'grpc',
  'sleep',
  'seccompProfile',
  'appArmorProfile',
  'seLinuxOptions',
  'windowsOptions',
  'capabilities',
  'rollingUpdate',
  'selector',
  'emptyDir',
  'configMap',
  'secret',
  'hostPath',
  'persistentVolumeClaim',
  'projected',
  'downwardAPI',
  'ephemeral',
  'csi',
  'nfs',
  'image',
]);

/** Maps of resource quantities: their values compare by value. */
const QUANTITY_MAPS = new Set(['requests', 'limits', 'overhead', 'capacity', 'allocatable']);

function isZero(value: unknown): boolean {
  return value === null || value === false || value === 0 || value === '' || (Array.isArray(value) && !value.length);
}

/** Whether `key: value` is the same as no `key` at all, for a Go decoder. */
function absentAs(key: string, value: unknown): boolean {
  if (value === null || value === undefined) return true;
  if (isRecord(value)) return Object.keys(value).length === 0 && !POINTER_STRUCTS.has(key);
  return isZero(value) && !POINTER_SCALARS.has(key);
}

function normalizeRecord(value: Record<string, unknown>, parent: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    let v = semanticForm(value[key], key);
    if (QUANTITY_MAPS.has(parent) || key === 'sizeLimit') v = canonicalQuantity(v);
    if (!absentAs(key, v)) out[key] = v;
  }
  return out;
}

/** The value as a Go decoder would hold it, as plain JSON with sorted keys: what semantic equality compares. */
export function semanticForm(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) return value.map((v) => semanticForm(v));
  if (isRecord(value)) return normalizeRecord(value, key);
  return value;
}

/** Go's semantic equality of two JSON values (of built-in kinds). */
export function semanticEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(semanticForm(a)) === JSON.stringify(semanticForm(b));
}
