import { createHash } from 'node:crypto';
import { HOST_IP, NODE_NAME } from './node.js';
import { randomSuffix } from './objects.js';
import { controllerRef, isRecord, type KObject } from './types.js';

/** Pod objects of the simulated workloads and the kubelet-like status they go through. */

let podIpCounter = 2;

type Obj = Record<string, unknown>;

function containersOf(pod: KObject): Obj[] {
  const spec = isRecord(pod.spec) ? pod.spec : {};
  return Array.isArray(spec.containers) ? spec.containers.filter(isRecord) : [];
}

/** A new pod of a ReplicaSet, Pending and scheduled onto the sandbox node. */
export function newPod(rs: KObject, now: string): KObject {
  const spec = isRecord(rs.spec) ? rs.spec : {};
  const template = isRecord(spec.template) ? spec.template : {};
  const meta = isRecord(template.metadata) ? template.metadata : {};
  const podSpec = isRecord(template.spec) ? template.spec : {};
  const name = `${rs.metadata.name ?? 'pod'}-${randomSuffix()}`;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: rs.metadata.namespace,
      labels: { ...((meta.labels as Record<string, string> | undefined) ?? {}) },
      ...(isRecord(meta.annotations) ? { annotations: { ...(meta.annotations as Record<string, string>) } } : {}),
      ownerReferences: [controllerRef(rs, 'apps/v1', 'ReplicaSet')],
    },
    spec: { ...podSpec, nodeName: NODE_NAME },
    status: {
      phase: 'Pending',
      conditions: [{ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: now }],
    },
  };
}

function condition(type: string, ok: boolean, now: string, why?: { reason: string; message: string }): Obj {
  return { type, status: ok ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: now, ...(why ?? {}) };
}

function containerId(pod: KObject, name: string, restart: number): string {
  return `containerd://${createHash('sha256')
    .update(`${pod.metadata.uid ?? ''}/${name}/${restart}`)
    .digest('hex')}`;
}

export type PodBehaviour = 'ready' | 'crashloop' | 'never-ready' | 'image-pull-error' | 'oom-killed';

/** Image tags that choose a pod's behaviour in every sandbox (docs/sandbox.md lists them). */
export const IMAGE_TAG_BEHAVIOURS: Array<{ image: RegExp; behaviour: PodBehaviour }> = [
  { image: /:crashloop$/, behaviour: 'crashloop' },
  { image: /:unready$/, behaviour: 'never-ready' },
  { image: /:errimagepull$/, behaviour: 'image-pull-error' },
  { image: /:oomkilled$/, behaviour: 'oom-killed' },
];

/** A pod the scheduler has bound: still Pending, its PodScheduled condition True. */
export function scheduledStatus(pod: KObject, now: string): Obj {
  const status = isRecord(pod.status) ? pod.status : {};
  return { ...status, phase: 'Pending', conditions: [condition('PodScheduled', true, now)] };
}

/** The status of a started pod: all containers running and ready, or running but never ready. */
export function runningStatus(pod: KObject, ready: boolean, now: string): Obj {
  const names = containersOf(pod).map((c) => String(c.name));
  const unready = ready
    ? undefined
    : { reason: 'ContainersNotReady', message: `containers with unready status: [${names.join(' ')}]` };
  const status = isRecord(pod.status) ? pod.status : {};
  const podIP =
    typeof status.podIP === 'string'
      ? status.podIP
      : `10.244.${Math.floor(podIpCounter / 250)}.${(podIpCounter++ % 250) + 2}`;
  return {
    ...status,
    phase: 'Running',
    hostIP: HOST_IP,
    hostIPs: [{ ip: HOST_IP }],
    podIP,
    podIPs: [{ ip: podIP }],
    startTime: status.startTime ?? now,
    conditions: [
      condition('Initialized', true, now),
      condition('Ready', ready, now, unready),
      condition('ContainersReady', ready, now, unready),
      condition('PodScheduled', true, now),
    ],
    containerStatuses: containersOf(pod).map((c) => ({
      name: c.name,
      image: c.image,
      imageID: `docker.io/library/${String(c.image)}@sha256:${'0'.repeat(64)}`,
      ready,
      started: true,
      restartCount: 0,
      containerID: containerId(pod, String(c.name), 0),
      state: { running: { startedAt: now } },
    })),
  };
}

/** A pod whose image cannot be pulled: Pending, its containers waiting in ErrImagePull, then ImagePullBackOff. */
export function pullFailedStatus(pod: KObject, now: string, backingOff: boolean): Obj {
  const base = runningStatus(pod, false, now);
  const reason = backingOff ? 'ImagePullBackOff' : 'ErrImagePull';
  return {
    ...base,
    phase: 'Pending',
    podIP: undefined,
    podIPs: undefined,
    containerStatuses: containersOf(pod).map((c) => ({
      name: c.name,
      image: c.image,
      imageID: '',
      ready: false,
      started: false,
      restartCount: 0,
      state: {
        waiting: {
          reason,
          message: backingOff
            ? `Back-off pulling image ${JSON.stringify(c.image)}`
            : `rpc error: code = NotFound desc = failed to pull and unpack image ${JSON.stringify(c.image)}: not found`,
        },
      },
    })),
  };
}

/**
 * The status after one more crash: restartCount + 1, waiting in CrashLoopBackOff, last state terminated (Error, or
 * OOMKilled with 137).
 */
export function crashedStatus(pod: KObject, now: string, oom = false): Obj {
  const base = runningStatus(pod, false, now);
  const previous =
    isRecord(pod.status) && Array.isArray(pod.status.containerStatuses) ? (pod.status.containerStatuses as Obj[]) : [];
  base.containerStatuses = (base.containerStatuses as Obj[]).map((cs, i) => {
    const restarts = Number(previous[i]?.restartCount ?? 0) + 1;
    const backoff = Math.min(300, 10 * 2 ** Math.min(restarts - 1, 5));
    return {
      ...cs,
      ready: false,
      started: false,
      restartCount: restarts,
      containerID: containerId(pod, String(cs.name), restarts),
      state: {
        waiting: {
          reason: 'CrashLoopBackOff',
          message:
            `back-off ${backoff}s restarting failed container=${String(cs.name)} ` +
            `pod=${pod.metadata.name ?? ''}_${pod.metadata.namespace ?? ''}(${pod.metadata.uid ?? ''})`,
        },
      },
      lastState: {
        terminated: {
          exitCode: oom ? 137 : 1,
          reason: oom ? 'OOMKilled' : 'Error',
          startedAt: now,
          finishedAt: now,
          containerID: containerId(pod, String(cs.name), restarts - 1),
        },
      },
    };
  });
  return base;
}

export function isPodReady(pod: KObject): boolean {
  const status = isRecord(pod.status) ? pod.status : {};
  const conditions = Array.isArray(status.conditions) ? (status.conditions as Obj[]) : [];
  return conditions.some((c) => c.type === 'Ready' && c.status === 'True');
}

export function firstContainerImage(pod: KObject): string {
  const image = containersOf(pod)[0]?.image;
  return typeof image === 'string' ? image : '';
}

export function firstContainerName(pod: KObject): string {
  const name = containersOf(pod)[0]?.name;
  return typeof name === 'string' ? name : 'app';
}

/** A core/v1 Event about an object, as the kubelet or a controller reports it. */
export function newEvent(
  about: KObject,
  e: { type: 'Normal' | 'Warning'; reason: string; message: string; component: string; fieldPath?: string },
  now: string,
): KObject {
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: {
      name: `${about.metadata.name ?? ''}.${randomSuffix(8)}${Date.now().toString(16)}`,
      namespace: about.metadata.namespace,
    },
    involvedObject: {
      kind: about.kind,
      namespace: about.metadata.namespace,
      name: about.metadata.name,
      uid: about.metadata.uid,
      apiVersion: about.apiVersion,
      resourceVersion: about.metadata.resourceVersion,
      ...(e.fieldPath ? { fieldPath: e.fieldPath } : {}),
    },
    reason: e.reason,
    message: e.message,
    source: { component: e.component, ...(e.component === 'kubelet' ? { host: NODE_NAME } : {}) },
    firstTimestamp: now,
    lastTimestamp: now,
    count: 1,
    type: e.type,
    eventTime: null,
    reportingComponent: e.component,
    reportingInstance: e.component === 'kubelet' ? NODE_NAME : '',
  };
}
