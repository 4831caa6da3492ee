import type { Api } from './api.js';
import { randomIn, Timers, wallClock, type SandboxClock, type Timing } from './clock.js';
import {
  crashedStatus,
  firstContainerImage,
  firstContainerName,
  IMAGE_TAG_BEHAVIOURS,
  newEvent,
  pullFailedStatus,
  runningStatus,
  scheduledStatus,
  type PodBehaviour,
} from './pods.js';
import { NODE_NAME } from './node.js';
import type { ResourceType } from './registry.js';
import { ReplicaSetReconciler } from './replicasets.js';
import { DeploymentReconciler } from './deployment-controller.js';
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

/** What the sandbox gives its workloads: its clock, and how slow to be. */
export interface WorkloadContext {
  clock?: SandboxClock;
  timing?: Pick<Timing, 'controllerLagMs' | 'podGraceMs'>;
}

function typeOf(api: Api, group: string, resource: string): ResourceType {
  const type = api.registry.get(group, resource);
  if (!type) throw new Error(`built-in ${resource} missing`);
  return type;
}

function ownerUid(o: KObject, kind: string): string | undefined {
  return (o.metadata.ownerReferences ?? []).find((r) => r.controller && r.kind === kind)?.uid;
}

function terminationGraceMs(pod: KObject): number {
  const seconds = isRecord(pod.spec) ? pod.spec.terminationGracePeriodSeconds : undefined;
  return typeof seconds === 'number' ? seconds * 1000 : 30_000;
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
  private readonly podTimers = new Map<string, AbortController>();
  private readonly timers: Timers;
  private readonly lagMs: readonly [number, number];
  private readonly podGraceMs: number;
  private readonly behaviours = new Map<string, PodBehaviour>();
  private readonly imageBehaviours: Array<{ image: string | RegExp; behaviour: PodBehaviour }> = [
    ...IMAGE_TAG_BEHAVIOURS,
  ];
  private scheduled = false;
  private readonly unsubscribe: () => void;
  readonly readyDelayMs: number;
  readonly crashIntervalMs: number;

  constructor(
    private readonly api: Api,
    options: WorkloadOptions = {},
    context: WorkloadContext = {},
  ) {
    this.readyDelayMs = options.readyDelayMs ?? 1000;
    const clock = context.clock ?? wallClock;
    this.timers = new Timers(clock);
    ({ controllerLagMs: this.lagMs, podGraceMs: this.podGraceMs } = {
      controllerLagMs: [0, 0] as const,
      podGraceMs: 0,
      ...context.timing,
    });
    const replicasets = typeOf(api, 'apps', 'replicasets');
    this.deployments = new DeploymentReconciler(
      api,
      { deployments: typeOf(api, 'apps', 'deployments'), replicasets, events: typeOf(api, '', 'events') },
      () => clock.now(),
    );
    this.replicaSets = new ReplicaSetReconciler(
      api,
      { replicasets, pods: typeOf(api, '', 'pods') },
      {
        requeueAfter: (rs, ms) => this.timers.after(ms, () => this.markReplicaSet(rs)),
        nowMs: () => clock.now(),
      },
    );
    this.crashIntervalMs = options.crashIntervalMs ?? 2 * this.readyDelayMs;
    this.unsubscribe = api.store.subscribe((event) => this.onEvent(event));
    this.timers.every(options.resyncMs ?? 1000, () => this.resyncProgressing());
    for (const d of api.store.list('apps/deployments')) this.markDeployment(d);
    // pods of a loaded state that had not started yet start now
    for (const pod of api.store.list('/pods'))
      if (isRecord(pod.status) && pod.status.phase === 'Pending') this.startPod(pod);
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
    this.unsubscribe();
    this.timers.close();
    this.podTimers.clear();
  }

  private onEvent(event: StoreEvent): void {
    const o = event.object;
    if (event.gr === 'apps/deployments' && event.type !== 'DELETED') this.markDeployment(o);
    else if (event.gr === 'apps/replicasets') {
      if (event.type !== 'DELETED') this.dirtyReplicaSets.add(`${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`);
      this.markOwner(o, 'Deployment', 'apps/deployments', this.dirtyDeployments);
    } else if (event.gr === '/pods') this.onPodEvent(event);
    else return;
    this.schedule();
  }

  /** The kubelet's part: start a new pod, stop a deleted one, end a terminating one after its grace. */
  private onPodEvent(event: StoreEvent): void {
    const o = event.object;
    if (event.type === 'ADDED') this.startPod(o);
    else if (event.type === 'DELETED') this.stopPod(o);
    else if (o.metadata.deletionTimestamp && !event.prev?.metadata.deletionTimestamp) this.terminate(o);
    this.markOwner(o, 'ReplicaSet', 'apps/replicasets', this.dirtyReplicaSets);
  }

  private markDeployment(d: KObject): void {
    this.dirtyDeployments.add(`${d.metadata.namespace ?? ''}/${d.metadata.name ?? ''}`);
    this.schedule();
  }

  private markOwner(o: KObject, kind: string, gr: 'apps/deployments' | 'apps/replicasets', into: Set<string>): void {
    const ref = (o.metadata.ownerReferences ?? []).find((r) => r.controller && r.kind === kind);
    if (ref && this.api.store.get(gr, o.metadata.namespace, ref.name)?.metadata.uid === ref.uid)
      into.add(`${o.metadata.namespace ?? ''}/${ref.name}`);
  }

  private markReplicaSet(rs: KObject): void {
    this.dirtyReplicaSets.add(`${rs.metadata.namespace ?? ''}/${rs.metadata.name ?? ''}`);
    this.schedule();
  }

  /** The controllers act on what changed after a lag, batched, as a real controller's queue and resync do. */
  private schedule(): void {
    if (this.scheduled || this.timers.closed) return;
    this.scheduled = true;
    this.timers.after(randomIn(this.lagMs), () => {
      this.scheduled = false;
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
      const conditions =
        isRecord(d.status) && Array.isArray(d.status.conditions)
          ? (d.status.conditions as Array<{ type: string; reason: string }>)
          : [];
      const progressing = conditions.find((c) => c.type === 'Progressing');
      if (
        progressing &&
        progressing.reason !== 'NewReplicaSetAvailable' &&
        progressing.reason !== 'ProgressDeadlineExceeded'
      )
        this.markDeployment(d);
    }
  }

  /** The ReplicaSet that controls a pod (looked up by UID, in the pod's namespace). */
  private replicaSetOf(pod: KObject): KObject | undefined {
    const found = this.api.store.byUID(ownerUid(pod, 'ReplicaSet'));
    return found?.gr === 'apps/replicasets' && found.object.metadata.namespace === pod.metadata.namespace
      ? found.object
      : undefined;
  }

  private behaviourOf(pod: KObject): PodBehaviour {
    const rs = this.replicaSetOf(pod);
    const deployment = rs?.metadata.ownerReferences?.find((r) => r.controller && r.kind === 'Deployment')?.name;
    const byDeployment = deployment ? this.behaviours.get(`${pod.metadata.namespace ?? ''}/${deployment}`) : undefined;
    if (byDeployment) return byDeployment;
    const spec = isRecord(pod.spec) ? pod.spec : {};
    const image =
      Array.isArray(spec.containers) && isRecord(spec.containers[0]) ? String(spec.containers[0].image) : '';
    // the newest registration wins, so a test's own rule overrides the built-in image tags
    return (
      [...this.imageBehaviours]
        .reverse()
        .find((b) => (typeof b.image === 'string' ? b.image === image : b.image.test(image)))?.behaviour ?? 'ready'
    );
  }

  /** The scheduler binds a pod that has no node yet; then the kubelet runs it as its behaviour says. */
  private startPod(pod: KObject): void {
    if (this.podTimers.has(pod.metadata.uid ?? '')) return;
    const stop = new AbortController();
    this.podTimers.set(pod.metadata.uid ?? '', stop);
    const nodeName = isRecord(pod.spec) ? pod.spec.nodeName : undefined;
    if (typeof nodeName === 'string' && nodeName !== '') this.runPod(pod, stop.signal);
    else
      this.timers.after(
        randomIn(this.lagMs),
        () => {
          const bound = this.bind(pod);
          if (bound) this.runPod(bound, stop.signal);
        },
        stop.signal,
      );
  }

  /** The scheduler's binding: the pod goes to the sandbox's one node (PodScheduled). */
  private bind(pod: KObject): KObject | undefined {
    const current = this.api.store.get('/pods', pod.metadata.namespace, pod.metadata.name ?? '');
    if (!current || current.metadata.uid !== pod.metadata.uid || current.metadata.deletionTimestamp) return undefined;
    const pods = typeOf(this.api, '', 'pods');
    const spec = isRecord(current.spec) ? current.spec : {};
    const bound = this.api.saveAsSystem(pods, { ...current, spec: { ...spec, nodeName: NODE_NAME } });
    return this.setPodStatus(bound, (p) => scheduledStatus(p, this.api.now()));
  }

  private runPod(pod: KObject, signal: AbortSignal): void {
    const behaviour = this.behaviourOf(pod);
    const after = (work: () => void): void => this.timers.after(this.readyDelayMs, work, signal);
    const every = (work: () => void): void => this.timers.every(this.crashIntervalMs, work, signal);
    switch (behaviour) {
      case 'ready':
      case 'never-ready':
        after(() => this.setPodStatus(pod, (p) => runningStatus(p, behaviour === 'ready', this.api.now())));
        if (behaviour === 'never-ready') every(() => this.unhealthy(pod));
        return;
      case 'crashloop':
      case 'oom-killed':
        after(() => this.setPodStatus(pod, (p) => runningStatus(p, false, this.api.now())));
        every(() => this.crash(pod, behaviour === 'oom-killed'));
        return;
      case 'image-pull-error':
        after(() => this.pullFailed(pod, false));
        every(() => this.pullFailed(pod, true));
        return;
      default: {
        const never: never = behaviour;
        throw new Error(`unknown pod behaviour ${String(never)}`);
      }
    }
  }

  /** The kubelet's readiness probe fails: Unhealthy Warnings on the pod. */
  private unhealthy(pod: KObject): void {
    const container = firstContainerName(pod);
    this.recordWarning(
      pod,
      'Unhealthy',
      'Readiness probe failed: HTTP probe failed with statuscode: 503',
      `spec.containers{${container}}`,
    );
  }

  /** The image cannot be pulled: ErrImagePull, then ImagePullBackOff, with Failed and BackOff Warnings. */
  private pullFailed(pod: KObject, backingOff: boolean): void {
    const updated = this.setPodStatus(pod, (p) => pullFailedStatus(p, this.api.now(), backingOff));
    if (!updated) return;
    const container = firstContainerName(updated);
    const image = firstContainerImage(updated);
    if (backingOff)
      this.recordWarning(
        updated,
        'BackOff',
        `Back-off pulling image ${JSON.stringify(image)}`,
        `spec.containers{${container}}`,
      );
    else this.recordWarning(updated, 'Failed', 'Error: ErrImagePull', `spec.containers{${container}}`);
  }

  private stopPod(pod: KObject): void {
    const uid = pod.metadata.uid ?? '';
    this.podTimers.get(uid)?.abort();
    this.podTimers.delete(uid);
  }

  /** The kubelet's part of a graceful deletion: the pod stops, then goes away after its grace period. */
  private terminate(pod: KObject): void {
    this.stopPod(pod);
    const pods = typeOf(this.api, '', 'pods');
    const ref = { type: pods, namespace: pod.metadata.namespace, name: pod.metadata.name ?? '' };
    this.timers.after(Math.min(this.podGraceMs, terminationGraceMs(pod)), () =>
      this.api.delete(ref, { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid } }),
    );
  }

  private setPodStatus(pod: KObject, next: (current: KObject) => Record<string, unknown>): KObject | undefined {
    const current = this.api.store.get('/pods', pod.metadata.namespace, pod.metadata.name ?? '');
    if (!current || current.metadata.uid !== pod.metadata.uid || current.metadata.deletionTimestamp) return undefined;
    const pods = typeOf(this.api, '', 'pods');
    return this.api.saveAsSystem(pods, { ...current, status: next(current) }, 'status');
  }

  private crash(pod: KObject, oom = false): void {
    const updated = this.setPodStatus(pod, (p) => crashedStatus(p, this.api.now(), oom));
    if (!updated) return;
    const container = firstContainerName(updated);
    const message =
      `Back-off restarting failed container ${container} in pod ` +
      `${updated.metadata.name ?? ''}_${updated.metadata.namespace ?? ''}(${updated.metadata.uid ?? ''})`;
    this.recordWarning(updated, 'BackOff', message, `spec.containers{${container}}`);
  }

  /** A kubelet Warning event; repeated ones bump `count` and `lastTimestamp` of the same Event. */
  private recordWarning(pod: KObject, reason: string, message: string, fieldPath: string): void {
    const events = typeOf(this.api, '', 'events');
    const existing = this.api.store
      .list('/events', pod.metadata.namespace)
      .find((e) => e.reason === reason && isRecord(e.involvedObject) && e.involvedObject.uid === pod.metadata.uid);
    if (existing) {
      const count = typeof existing.count === 'number' ? existing.count + 1 : 2;
      this.api.saveAsSystem(events, { ...existing, count, lastTimestamp: this.api.now(), message });
      return;
    }
    this.api.createAsSystem(
      events,
      newEvent(pod, { type: 'Warning', reason, message, component: 'kubelet', fieldPath }, this.api.now()),
    );
  }
}
