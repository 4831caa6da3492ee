import type { Api } from './api.js';
import { crashedStatus, firstContainerName, newEvent, runningStatus, type PodBehaviour } from './pods.js';
import type { ResourceType } from './registry.js';
import { ReplicaSetReconciler } from './replicasets.js';
import { DeploymentReconciler } from './rollout.js';
import type { StoreEvent } from './store.js';
import { isRecord, type KObject } from './types.js';

export type { PodBehaviour };

export interface WorkloadOptions {
  /** How long a new pod takes to become ready (default 1000 ms). */
  readyDelayMs?: number;
  /** How often a crash-looping pod restarts (default 2 × readyDelayMs). */
  crashIntervalMs?: number;
  /** How often Deployments are re-checked for their progress deadline (default 1000 ms). */
  resyncMs?: number;
}

function typeOf(api: Api, group: string, resource: string): ResourceType {
  const type = api.registry.get(group, resource);
  if (!type) throw new Error(`built-in ${resource} missing`);
  return type;
}

function ownerUid(o: KObject, kind: string): string | undefined {
  return (o.metadata.ownerReferences ?? []).find((r) => r.controller && r.kind === kind)?.uid;
}

/** A timer's work: a failure (the pod went away meanwhile) must not take the process down. */
function safely(work: () => unknown): void {
  try {
    work();
  } catch {
    // the next change of the object starts another pass
  }
}

/**
 * The simulated workloads: a deployment controller, a ReplicaSet controller, and a kubelet that
 * starts pods after a delay. Test hooks make a Deployment's new pods crash-loop or never become ready.
 */
export class Workloads {
  private readonly deployments: DeploymentReconciler;
  private readonly replicaSets: ReplicaSetReconciler;
  private readonly dirtyDeployments = new Set<string>();
  private readonly dirtyReplicaSets = new Set<string>();
  private readonly timers = new Map<string, NodeJS.Timeout[]>();
  private readonly behaviours = new Map<string, PodBehaviour>();
  private readonly imageBehaviours: Array<{ image: string | RegExp; behaviour: PodBehaviour }> = [];
  private scheduled: NodeJS.Immediate | undefined;
  private readonly resync: NodeJS.Timeout;
  private readonly unsubscribe: () => void;
  private closed = false;
  readonly readyDelayMs: number;
  readonly crashIntervalMs: number;

  constructor(private readonly api: Api, options: WorkloadOptions = {}) {
    this.readyDelayMs = options.readyDelayMs ?? 1000;
    const replicasets = typeOf(api, 'apps', 'replicasets');
    this.deployments = new DeploymentReconciler(api, { deployments: typeOf(api, 'apps', 'deployments'), replicasets, events: typeOf(api, '', 'events') }, () => Date.now());
    this.replicaSets = new ReplicaSetReconciler(api, { replicasets, pods: typeOf(api, '', 'pods') }, (pod) => this.startPod(pod));
    this.crashIntervalMs = options.crashIntervalMs ?? 2 * this.readyDelayMs;
    this.unsubscribe = api.store.subscribe((event) => this.onEvent(event));
    this.resync = setInterval(() => this.resyncProgressing(), options.resyncMs ?? 1000);
    this.resync.unref();
    for (const d of api.store.list('apps/deployments')) this.markDeployment(d);
    // pods of a loaded state that had not started yet start now
    for (const pod of api.store.list('/pods')) if (isRecord(pod.status) && pod.status.phase === 'Pending') this.startPod(pod);
  }

  /** New pods of this Deployment crash-loop: growing restart counts, BackOff Warning events. */
  crashLoop(namespace: string, deployment: string): void {
    this.behaviours.set(`${namespace}/${deployment}`, 'crashloop');
  }

  /** New pods of this Deployment run but never pass their readiness check. */
  neverReady(namespace: string, deployment: string): void {
    this.behaviours.set(`${namespace}/${deployment}`, 'never-ready');
  }

  /** New pods of this Deployment become ready again (undoes crashLoop / neverReady). */
  healthy(namespace: string, deployment: string): void {
    this.behaviours.delete(`${namespace}/${deployment}`);
  }

  /** Pods whose first container's image matches behave so (e.g. `/:bad$/` crash-loops), in every Deployment. */
  behaviourForImage(image: string | RegExp, behaviour: PodBehaviour): void {
    this.imageBehaviours.push({ image, behaviour });
  }

  close(): void {
    this.closed = true;
    this.unsubscribe();
    clearInterval(this.resync);
    if (this.scheduled) clearImmediate(this.scheduled);
    for (const list of this.timers.values()) list.forEach((t) => clearTimeout(t));
    this.timers.clear();
  }

  private onEvent(event: StoreEvent): void {
    const o = event.object;
    if (event.gr === 'apps/deployments' && event.type !== 'DELETED') this.markDeployment(o);
    else if (event.gr === 'apps/replicasets') {
      if (event.type !== 'DELETED') this.dirtyReplicaSets.add(`${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`);
      this.markOwner(o, 'Deployment', 'apps/deployments', this.dirtyDeployments);
    } else if (event.gr === '/pods') {
      if (event.type === 'DELETED') this.stopPod(o);
      this.markOwner(o, 'ReplicaSet', 'apps/replicasets', this.dirtyReplicaSets);
    } else return;
    this.schedule();
  }

  private markDeployment(d: KObject): void {
    this.dirtyDeployments.add(`${d.metadata.namespace ?? ''}/${d.metadata.name ?? ''}`);
    this.schedule();
  }

  private markOwner(o: KObject, kind: string, gr: 'apps/deployments' | 'apps/replicasets', into: Set<string>): void {
    const ref = (o.metadata.ownerReferences ?? []).find((r) => r.controller && r.kind === kind);
    if (ref && this.api.store.get(gr, o.metadata.namespace, ref.name)?.metadata.uid === ref.uid) into.add(`${o.metadata.namespace ?? ''}/${ref.name}`);
  }

  private schedule(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = setImmediate(() => {
      this.scheduled = undefined;
      this.drain();
    });
  }

  /** Works the queues until quiet: ReplicaSets first (pods), then Deployments (rollout + status). */
  private drain(): void {
    for (let round = 0; round < 10 && (this.dirtyDeployments.size || this.dirtyReplicaSets.size); round++) {
      this.each(this.dirtyReplicaSets, 'apps/replicasets', (o) => this.replicaSets.reconcile(o));
      this.each(this.dirtyDeployments, 'apps/deployments', (o) => this.deployments.reconcile(o));
    }
    if (this.dirtyDeployments.size || this.dirtyReplicaSets.size) this.schedule();
  }

  private each(set: Set<string>, gr: 'apps/deployments' | 'apps/replicasets', work: (o: KObject) => void): void {
    const keys = [...set];
    set.clear();
    for (const key of keys) {
      const [namespace, name] = key.split('/');
      const object = this.api.store.get(gr, namespace, name ?? '');
      if (!object) continue;
      try {
        work(object);
      } catch {
        set.add(key);
      }
    }
  }

  private resyncProgressing(): void {
    for (const d of this.api.store.list('apps/deployments')) {
      const conditions = isRecord(d.status) && Array.isArray(d.status.conditions) ? (d.status.conditions as Array<{ type: string; reason: string }>) : [];
      const progressing = conditions.find((c) => c.type === 'Progressing');
      if (progressing && progressing.reason !== 'NewReplicaSetAvailable' && progressing.reason !== 'ProgressDeadlineExceeded') this.markDeployment(d);
    }
  }

  private behaviourOf(pod: KObject): PodBehaviour {
    const rsUid = ownerUid(pod, 'ReplicaSet');
    const rs = this.api.store.list('apps/replicasets', pod.metadata.namespace).find((r) => r.metadata.uid === rsUid);
    const deployment = rs?.metadata.ownerReferences?.find((r) => r.controller && r.kind === 'Deployment')?.name;
    const byDeployment = deployment ? this.behaviours.get(`${pod.metadata.namespace ?? ''}/${deployment}`) : undefined;
    if (byDeployment) return byDeployment;
    const spec = isRecord(pod.spec) ? pod.spec : {};
    const image = Array.isArray(spec.containers) && isRecord(spec.containers[0]) ? String(spec.containers[0].image) : '';
    return this.imageBehaviours.find((b) => (typeof b.image === 'string' ? b.image === image : b.image.test(image)))?.behaviour ?? 'ready';
  }

  private startPod(pod: KObject): void {
    const behaviour = this.behaviourOf(pod);
    const uid = pod.metadata.uid ?? '';
    const start = setTimeout(() => safely(() => this.setPodStatus(pod, (p) => runningStatus(p, behaviour === 'ready', this.api.now()))), this.readyDelayMs);
    const timers = [start];
    if (behaviour === 'crashloop') timers.push(setInterval(() => safely(() => this.crash(pod)), this.crashIntervalMs));
    this.timers.set(uid, timers);
  }

  private stopPod(pod: KObject): void {
    const uid = pod.metadata.uid ?? '';
    for (const t of this.timers.get(uid) ?? []) clearTimeout(t);
    this.timers.delete(uid);
  }

  private setPodStatus(pod: KObject, next: (current: KObject) => Record<string, unknown>): KObject | undefined {
    const current = this.api.store.get('/pods', pod.metadata.namespace, pod.metadata.name ?? '');
    if (!current || current.metadata.uid !== pod.metadata.uid || current.metadata.deletionTimestamp) return undefined;
    const pods = typeOf(this.api, '', 'pods');
    return this.api.saveAsSystem(pods, { ...current, status: next(current) }, 'status');
  }

  private crash(pod: KObject): void {
    const updated = this.setPodStatus(pod, (p) => crashedStatus(p, this.api.now()));
    if (!updated) return;
    const container = firstContainerName(updated);
    const message = `Back-off restarting failed container ${container} in pod ${updated.metadata.name ?? ''}_${updated.metadata.namespace ?? ''}(${updated.metadata.uid ?? ''})`;
    this.recordWarning(updated, 'BackOff', message, `spec.containers{${container}}`);
  }

  /** A kubelet Warning event; repeated ones bump `count` and `lastTimestamp` of the same Event. */
  private recordWarning(pod: KObject, reason: string, message: string, fieldPath: string): void {
    const events = typeOf(this.api, '', 'events');
    const existing = this.api.store.list('/events', pod.metadata.namespace)
      .find((e) => e.reason === reason && isRecord(e.involvedObject) && e.involvedObject.uid === pod.metadata.uid);
    if (existing) {
      const count = typeof existing.count === 'number' ? existing.count + 1 : 2;
      this.api.saveAsSystem(events, { ...existing, count, lastTimestamp: this.api.now(), message });
      return;
    }
    this.api.createAsSystem(events, newEvent(pod, { type: 'Warning', reason, message, component: 'kubelet', fieldPath }, this.api.now()));
  }
}
