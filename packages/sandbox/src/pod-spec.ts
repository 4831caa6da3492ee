import { forbidden, type StatusCause } from './status.js';
import { canonicalQuantity } from './quantity.js';
import { semanticEqual } from './semantic.js';
import { isRecord, type KObject } from './types.js';

/**
 * Pod specs as the API server admits them: the defaults of pod templates and of pods, the pod's own
 * (requests from limits, service links, the admission plugins' serviceAccountName, priority and
 * tolerations), its QoS class, and what may change in a pod's spec once it exists.
 */

type Obj = Record<string, unknown>;

function obj(parent: Obj, key: string): Obj {
  const value = parent[key];
  if (isRecord(value)) return value;
  const created: Obj = {};
  parent[key] = created;
  return created;
}

function pullPolicy(image: unknown): string {
  const text = typeof image === 'string' ? image : '';
  return /:[^/]+$/.test(text) && !text.endsWith(':latest') ? 'IfNotPresent' : 'Always';
}

/** Requests and limits as the API server stores them: canonical quantities (`cpu: 0.5` is `500m`). */
function canonicalResources(resources: Obj): void {
  for (const key of ['requests', 'limits']) {
    const list = resources[key];
    if (isRecord(list)) for (const name of Object.keys(list)) list[name] = canonicalQuantity(list[name]);
  }
}

function defaultContainer(c: unknown): void {
  if (!isRecord(c)) return;
  c.imagePullPolicy ??= pullPolicy(c.image);
  c.terminationMessagePath ??= '/dev/termination-log';
  c.terminationMessagePolicy ??= 'File';
  c.resources ??= {};
  if (isRecord(c.resources)) canonicalResources(c.resources);
  if (Array.isArray(c.ports)) for (const p of c.ports) if (isRecord(p)) p.protocol ??= 'TCP';
}

function containersOf(spec: Obj): Obj[] {
  return [spec.containers, spec.initContainers].flatMap((list) => (Array.isArray(list) ? list.filter(isRecord) : []));
}

/** The defaults of a PodSpec, in a template or a pod (SetDefaults_PodSpec and its containers'). */
export function defaultPodSpec(spec: Obj): void {
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.schedulerName ??= 'default-scheduler';
  spec.securityContext ??= {};
  for (const c of containersOf(spec)) defaultContainer(c);
}

export function defaultPodTemplate(template: Obj): void {
  defaultPodSpec(obj(template, 'spec'));
}

/** A container's limits are its requests where it gives none (SetDefaults_Pod: pods only, not templates). */
function requestsFromLimits(c: Obj): void {
  const resources = isRecord(c.resources) ? c.resources : undefined;
  if (!resources || !isRecord(resources.limits)) return;
  resources.requests = { ...resources.limits, ...(isRecord(resources.requests) ? resources.requests : {}) };
}

const DEFAULT_TOLERATIONS = ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable'];

/** The DefaultTolerationSeconds admission plugin: 300 s on not-ready and unreachable nodes, unless given. */
function defaultTolerations(spec: Obj): void {
  const tolerations = Array.isArray(spec.tolerations) ? spec.tolerations.filter(isRecord) : [];
  for (const key of DEFAULT_TOLERATIONS) {
    if (tolerations.some((t) => t.key === key || (t.operator === 'Exists' && t.key === undefined))) continue;
    tolerations.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 });
  }
  spec.tolerations = tolerations;
}

/** The QoS class of a pod (qos.GetPodQOS, over cpu and memory). */
export function qosClassOf(spec: Obj): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const containers = containersOf(spec).map((c) => (isRecord(c.resources) ? c.resources : {}));
  const of = (r: Obj, key: 'requests' | 'limits'): Obj => (isRecord(r[key]) ? r[key] : {});
  const compute = (m: Obj): string[] => Object.keys(m).filter((k) => k === 'cpu' || k === 'memory');
  if (containers.every((r) => compute(of(r, 'requests')).length === 0 && compute(of(r, 'limits')).length === 0))
    return 'BestEffort';
  const guaranteed = containers.every((r) => {
    const limits = of(r, 'limits');
    const requests = of(r, 'requests');
    return ['cpu', 'memory'].every((k) => limits[k] !== undefined && semanticEqual(requests[k], limits[k]));
  });
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

/** A Pod on create and update: its spec's defaults, the admission plugins' fields; on create, a Pending status. */
export function defaultPod(pod: KObject, old: KObject | undefined): void {
  const spec = obj(pod, 'spec');
  defaultPodSpec(spec);
  for (const c of containersOf(spec)) requestsFromLimits(c);
  spec.enableServiceLinks ??= true;
  if (typeof spec.serviceAccountName !== 'string' || spec.serviceAccountName === '')
    spec.serviceAccountName =
      typeof spec.serviceAccount === 'string' && spec.serviceAccount ? spec.serviceAccount : 'default';
  spec.serviceAccount = spec.serviceAccountName;
  if (spec.priorityClassName === undefined) {
    spec.priority ??= 0;
    spec.preemptionPolicy ??= 'PreemptLowerPriority';
  }
  if (old) return;
  defaultTolerations(spec);
  const status = obj(pod, 'status');
  status.phase ??= 'Pending';
  status.qosClass = qosClassOf(spec);
}

export function required(causes: StatusCause[], field: string): void {
  causes.push({ reason: 'FieldValueRequired', field, message: 'Required value' });
}

/** Containers: at least one, each with a unique name and an image. */
export function containerCauses(spec: Obj, path: string): StatusCause[] {
  const causes: StatusCause[] = [];
  const containers = spec.containers;
  const seen = new Set<string>();
  if (!Array.isArray(containers) || containers.length === 0) required(causes, `${path}.containers`);
  else
    containers.forEach((c, i) => {
      if (!isRecord(c) || typeof c.name !== 'string' || c.name === '')
        required(causes, `${path}.containers[${i}].name`);
      else if (seen.has(c.name))
        causes.push({
          reason: 'FieldValueDuplicate',
          field: `${path}.containers[${i}].name`,
          message: `Duplicate value: ${JSON.stringify(c.name)}`,
        });
      else seen.add(c.name);
      if (!isRecord(c) || typeof c.image !== 'string' || c.image === '')
        required(causes, `${path}.containers[${i}].image`);
    });
  return causes;
}

const MUTABLE_POD_SPEC =
  'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,' +
  '`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),' +
  '`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';

/** The spec without what an update may change: images, activeDeadlineSeconds, tolerations, the node once bound. */
function fixedPart(spec: Obj, old: Obj): Obj {
  const images = (list: unknown): unknown =>
    Array.isArray(list) ? list.map((c: unknown) => (isRecord(c) ? { ...c, image: undefined } : c)) : list;
  const out: Obj = {
    ...spec,
    containers: images(spec.containers),
    initContainers: images(spec.initContainers),
    activeDeadlineSeconds: undefined,
    tolerations: undefined,
    terminationGracePeriodSeconds: undefined,
  };
  // the scheduler's binding sets the node of a pod that has none
  if (old.nodeName === undefined) delete out.nodeName;
  return out;
}

export function podCauses(pod: KObject, old: KObject | undefined): StatusCause[] {
  const spec = isRecord(pod.spec) ? pod.spec : {};
  const causes = containerCauses(spec, 'spec');
  if (!old) return causes;
  const before = isRecord(old.spec) ? old.spec : {};
  if (!semanticEqual(fixedPart(spec, before), fixedPart(before, before)))
    causes.push({ reason: 'FieldValueForbidden', field: 'spec', message: `Forbidden: ${MUTABLE_POD_SPEC}` });
  return causes;
}

/**
 * The ServiceAccount admission plugin: a pod runs as an existing ServiceAccount of its namespace (403 otherwise,
 * as when the service-account controller has not made `default` yet).
 */
export function checkServiceAccount(pod: KObject, exists: (namespace: string, name: string) => boolean): void {
  const spec = isRecord(pod.spec) ? pod.spec : {};
  const named = [spec.serviceAccountName, spec.serviceAccount].find((n) => typeof n === 'string' && n !== '');
  const account = typeof named === 'string' ? named : 'default';
  const namespace = pod.metadata.namespace ?? '';
  if (exists(namespace, account)) return;
  throw forbidden(
    `pods "${pod.metadata.name ?? ''}" is forbidden: error looking up service account ${namespace}/${account}: ` +
      `serviceaccount "${account}" not found`,
  );
}
