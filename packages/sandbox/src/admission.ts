import { containerCauses, defaultPod, defaultPodTemplate, podCauses, required } from './pod-spec.js';
import { defaultHpa } from './hpa-types.js';
import { matchesLabelSelector } from './selectors.js';
import type { StatusCause } from './status.js';
import { semanticEqual } from './semantic.js';
import { isRecord, type KObject } from './types.js';

/** Defaults a built-in object in place, as the API server's defaulting does. */
export type Defaulter = (object: KObject, old: KObject | undefined) => void;
/** Validation of a built-in kind beyond ObjectMeta. */
export type Validator = (object: KObject, old: KObject | undefined) => StatusCause[];

type Obj = Record<string, unknown>;

function obj(parent: Obj, key: string): Obj {
  const value = parent[key];
  if (isRecord(value)) return value;
  const created: Obj = {};
  parent[key] = created;
  return created;
}

const defaultDeployment: Defaulter = (o) => {
  const spec = obj(o, 'spec');
  spec.replicas ??= 1;
  const strategy = obj(spec, 'strategy');
  strategy.type ??= 'RollingUpdate';
  if (strategy.type === 'RollingUpdate') {
    const ru = obj(strategy, 'rollingUpdate');
    ru.maxUnavailable ??= '25%';
    ru.maxSurge ??= '25%';
  }
  spec.revisionHistoryLimit ??= 10;
  spec.progressDeadlineSeconds ??= 600;
  defaultPodTemplate(obj(spec, 'template'));
};

const defaultReplicaSet: Defaulter = (o) => {
  const spec = obj(o, 'spec');
  spec.replicas ??= 1;
  defaultPodTemplate(obj(spec, 'template'));
};

let nextClusterIp = 1;

function allocateClusterIp(spec: Obj, old: KObject | undefined): void {
  if (spec.clusterIP !== undefined) return;
  const oldSpec = old && isRecord(old.spec) ? old.spec : undefined;
  if (oldSpec?.clusterIP !== undefined) {
    spec.clusterIP = oldSpec.clusterIP;
    return;
  }
  spec.clusterIP = `10.96.${Math.floor(nextClusterIp / 250)}.${(nextClusterIp % 250) + 2}`;
  nextClusterIp++;
}

const defaultService: Defaulter = (o, old) => {
  const spec = obj(o, 'spec');
  allocateClusterIp(spec, old);
  Object.assign(spec, {
    type: 'ClusterIP',
    sessionAffinity: 'None',
    clusterIPs: [spec.clusterIP],
    ipFamilies: ['IPv4'],
    ipFamilyPolicy: 'SingleStack',
    internalTrafficPolicy: 'Cluster',
    ...spec,
  });
  const ports = Array.isArray(spec.ports) ? spec.ports.filter(isRecord) : [];
  for (const p of ports) Object.assign(p, { protocol: 'TCP', targetPort: p.port, ...p });
  // ServiceStatus and its LoadBalancerStatus are Go structs: a real server always shows them, if only empty
  obj(obj(o, 'status'), 'loadBalancer');
};

const defaultSecret: Defaulter = (o) => {
  o.type ??= 'Opaque';
  if (isRecord(o.stringData)) {
    const data = obj(o, 'data');
    for (const [k, v] of Object.entries(o.stringData)) data[k] = Buffer.from(String(v as string)).toString('base64');
    delete o.stringData;
  }
};

const defaultNamespace: Defaulter = (o) => {
  const name = o.metadata.name ?? '';
  o.metadata.labels = { ...(o.metadata.labels ?? {}), 'kubernetes.io/metadata.name': name };
  obj(o, 'spec').finalizers ??= ['kubernetes'];
  const status = obj(o, 'status');
  status.phase ??= 'Active';
};

function isZero(value: unknown): boolean {
  return value === 0 || value === '0' || value === '0%';
}

/** A rolling update must be able to move: maxSurge and maxUnavailable not both 0. */
function strategyCauses(spec: Obj): StatusCause[] {
  const strategy = isRecord(spec.strategy) ? spec.strategy : {};
  const ru = isRecord(strategy.rollingUpdate) ? strategy.rollingUpdate : undefined;
  if (strategy.type === 'Recreate' && ru)
    return [
      {
        reason: 'FieldValueForbidden',
        field: 'spec.strategy.rollingUpdate',
        message: "Forbidden: may not be specified when strategy `type` is 'Recreate'",
      },
    ];
  if (!ru || !isZero(ru.maxSurge) || !isZero(ru.maxUnavailable)) return [];
  return [
    {
      reason: 'FieldValueInvalid',
      field: 'spec.strategy.rollingUpdate.maxUnavailable',
      message: `Invalid value: ${JSON.stringify(String(ru.maxUnavailable))}: may not be 0 when \`maxSurge\` is 0`,
    },
  ];
}

function selectorCauses(spec: Obj, template: Obj): StatusCause[] {
  const causes: StatusCause[] = [];
  const labels = isRecord(template.metadata)
    ? (template.metadata.labels as Record<string, string> | undefined)
    : undefined;
  if (!isRecord(spec.selector)) required(causes, 'spec.selector');
  else if (!matchesLabelSelector(spec.selector, labels)) {
    causes.push({
      reason: 'FieldValueInvalid',
      field: 'spec.template.metadata.labels',
      message: `Invalid value: ${JSON.stringify(labels ?? {})}: \`selector\` does not match template \`labels\``,
    });
  }
  return causes;
}

/** Deployment and ReplicaSet: selector present, matching the template, immutable; replicas ≥ 0. */
const validateWorkload: Validator = (o, old) => {
  const spec = isRecord(o.spec) ? o.spec : {};
  const template = isRecord(spec.template) ? spec.template : {};
  const causes = selectorCauses(spec, template);
  if (old && isRecord(old.spec) && !semanticEqual(old.spec.selector, spec.selector)) {
    causes.push({
      reason: 'FieldValueInvalid',
      field: 'spec.selector',
      message: `Invalid value: ${JSON.stringify(spec.selector)}: field is immutable`,
    });
  }
  if (typeof spec.replicas === 'number' && spec.replicas < 0) {
    causes.push({
      reason: 'FieldValueInvalid',
      field: 'spec.replicas',
      message: `Invalid value: ${spec.replicas}: must be greater than or equal to 0`,
    });
  }
  causes.push(...containerCauses(isRecord(template.spec) ? template.spec : {}, 'spec.template.spec'));
  if (o.kind === 'Deployment') causes.push(...strategyCauses(spec));
  return causes;
};

const validateService: Validator = (o) => {
  const spec = isRecord(o.spec) ? o.spec : {};
  const causes: StatusCause[] = [];
  const ports: unknown[] = Array.isArray(spec.ports) ? spec.ports : [];
  ports.forEach((p, i) => {
    if (!isRecord(p) || typeof p.port !== 'number') required(causes, `spec.ports[${i}].port`);
  });
  return causes;
};

export const DEFAULTERS: Record<string, Defaulter> = {
  'apps/Deployment': defaultDeployment,
  'apps/ReplicaSet': defaultReplicaSet,
  '/Service': defaultService,
  '/Secret': defaultSecret,
  '/Namespace': defaultNamespace,
  '/Pod': defaultPod,
  'autoscaling/HorizontalPodAutoscaler': defaultHpa,
};

export const VALIDATORS: Record<string, Validator> = {
  'apps/Deployment': validateWorkload,
  'apps/ReplicaSet': validateWorkload,
  '/Service': validateService,
  '/Pod': podCauses,
};
