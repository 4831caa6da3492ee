import type { Api } from './api.js';
import { deploymentStatus } from './deployment-status.js';
import { DESIRED, isScalingEvent, MAX_REPLICAS, replicasOf, scaledSizes } from './proportional.js';
import { newEvent } from './pods.js';
import type { ResourceType } from './registry.js';
import { podTemplateHash, resolveIntOrPercent } from './template-hash.js';
import { semanticEqual } from './semantic.js';
import { clone, controllerRef, isRecord, jsonEqual, type KObject } from './types.js';

const HASH = 'pod-template-hash';
const REVISION = 'deployment.kubernetes.io/revision';

type Obj = Record<string, unknown>;

function spec(o: KObject): Obj {
  return isRecord(o.spec) ? o.spec : {};
}

/** A pod template without its pod-template-hash label (EqualIgnoreHash). */
function withoutHash(template: unknown): unknown {
  if (!isRecord(template) || !isRecord(template.metadata) || !isRecord(template.metadata.labels)) return template;
  const { [HASH]: _hash, ...labels } = template.metadata.labels;
  return { ...template, metadata: { ...template.metadata, labels } };
}

const replicas = replicasOf;

function statusNum(o: KObject, key: string): number {
  const v = isRecord(o.status) ? o.status[key] : undefined;
  return typeof v === 'number' ? v : 0;
}

function revision(o: KObject): number {
  return Number(o.metadata.annotations?.[REVISION] ?? 0);
}

/** Recreate, or RollingUpdate with maxSurge / maxUnavailable resolved against spec.replicas. */
function rollingParams(d: KObject): { recreate: boolean; maxSurge: number; maxUnavailable: number } {
  const strategy = isRecord(spec(d).strategy) ? (spec(d).strategy as Obj) : {};
  if (strategy.type === 'Recreate') return { recreate: true, maxSurge: 0, maxUnavailable: 0 };
  const ru = isRecord(strategy.rollingUpdate) ? strategy.rollingUpdate : {};
  const maxSurge = resolveIntOrPercent(ru.maxSurge ?? '25%', replicas(d), true);
  const maxUnavailable = resolveIntOrPercent(ru.maxUnavailable ?? '25%', replicas(d), false);
  return { recreate: false, maxSurge, maxUnavailable: maxSurge === 0 && maxUnavailable === 0 ? 1 : maxUnavailable };
}

/** What a ReplicaSet was sized for: the Deployment's replicas, and that plus maxSurge. */
function sizeAnnotations(d: KObject): Record<string, string> {
  return { [DESIRED]: String(replicas(d)), [MAX_REPLICAS]: String(replicas(d) + rollingParams(d).maxSurge) };
}

/** The ReplicaSet of the Deployment's template: the hash in its name, labels and selector; the next revision. */
function newReplicaSet(d: KObject, hash: string, existing: KObject[]): KObject {
  const template = clone(isRecord(spec(d).template) ? (spec(d).template as Obj) : {});
  const meta = isRecord(template.metadata) ? template.metadata : {};
  const labels = { ...((meta.labels as Record<string, string> | undefined) ?? {}), [HASH]: hash };
  template.metadata = { ...meta, labels };
  const selector = isRecord(spec(d).selector) ? (spec(d).selector as Obj) : {};
  const rev = Math.max(0, ...existing.map(revision)) + 1;
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: `${d.metadata.name ?? ''}-${hash}`,
      namespace: d.metadata.namespace,
      labels,
      annotations: { [REVISION]: String(rev), ...sizeAnnotations(d) },
      ownerReferences: [controllerRef(d, 'apps/v1', 'Deployment')],
    },
    spec: {
      replicas: existing.some((rs) => replicas(rs) > 0) ? 0 : replicas(d),
      ...(typeof spec(d).minReadySeconds === 'number' ? { minReadySeconds: spec(d).minReadySeconds } : {}),
      selector: {
        ...selector,
        matchLabels: { ...((selector.matchLabels as Record<string, string> | undefined) ?? {}), [HASH]: hash },
      },
      template,
    },
  };
}

export interface Types {
  deployments: ResourceType;
  replicasets: ResourceType;
  events: ResourceType;
}

/** One pass of the deployment controller over one Deployment (rolling update, Recreate, pause, status). */
export class DeploymentReconciler {
  constructor(
    private readonly api: Api,
    private readonly types: Types,
    private readonly clock: () => number,
  ) {}

  ownedReplicaSets(d: KObject): KObject[] {
    return this.api.store
      .dependentsOf(d.metadata.uid)
      .filter(({ gr, object }) => gr === 'apps/replicasets' && object.metadata.namespace === d.metadata.namespace)
      .map(({ object }) => object)
      .filter((rs) => (rs.metadata.ownerReferences ?? []).some((r) => r.controller && r.uid === d.metadata.uid));
  }

  /**
   * The ReplicaSet whose template is the Deployment's, compared as Go values with the pod-template-hash label left
   * out, oldest first (FindNewReplicaSet): a rollback (kubectl rollout undo copies an old template back, with
   * `creationTimestamp: null` and defaults) finds the old ReplicaSet again, whatever its hash.
   */
  findNewReplicaSet(d: KObject, all: KObject[]): KObject | undefined {
    const template = spec(d).template;
    return [...all]
      .sort(
        (a, b) =>
          (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') ||
          (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''),
      )
      .find((rs) => semanticEqual(withoutHash(spec(rs).template), withoutHash(template)));
  }

  reconcile(d: KObject): void {
    if (d.metadata.deletionTimestamp) return;
    let all = this.ownedReplicaSets(d);
    let newRs = this.findNewReplicaSet(d, all);
    const paused = spec(d).paused === true;
    const created = !newRs && !paused;
    if (created) {
      newRs = this.createReplicaSet(d, all);
      if (!newRs) return;
      all = [...all, newRs];
    }
    if (paused || isScalingEvent(d, all)) {
      this.scaleEvent(
        d,
        newRs,
        all.filter((rs) => rs !== newRs),
      );
    } else if (newRs) {
      const current = created ? newRs : this.syncNewReplicaSet(d, this.bumpRevision(newRs, all));
      this.roll(
        d,
        current,
        all.filter((rs) => rs !== current),
      );
    }
    if (!paused) {
      all = this.ownedReplicaSets(d);
      newRs = this.findNewReplicaSet(d, all);
      this.cleanup(d, all, newRs);
    }
    this.syncRevision(d, newRs);
    this.writeStatus(d, { paused, newRs, all, created });
  }

  private writeStatus(
    d: KObject,
    f: { paused: boolean; newRs: KObject | undefined; all: KObject[]; created: boolean },
  ): void {
    const { maxUnavailable } = rollingParams(d);
    const fresh = this.api.find(this.types.deployments, d.metadata.namespace, d.metadata.name ?? '') ?? d;
    const status = deploymentStatus(fresh, {
      ...f,
      desired: replicas(d),
      maxUnavailable,
      now: this.api.now(),
      nowMs: this.clock(),
    });
    this.api.saveAsSystem(this.types.deployments, { ...fresh, status }, 'status');
  }

  /** A scaling event or a paused Deployment: resize without rolling (the only active ReplicaSet, or proportionally). */
  private scaleEvent(d: KObject, newRs: KObject | undefined, olds: KObject[]): void {
    const { maxSurge } = rollingParams(d);
    for (const [rs, size] of scaledSizes(d, newRs, olds, maxSurge)) this.scale(d, rs, size);
  }

  /** The new ReplicaSet follows the Deployment's minReadySeconds, as the controller keeps it. */
  private syncNewReplicaSet(d: KObject, rs: KObject): KObject {
    const minReady = spec(d).minReadySeconds;
    if (spec(rs).minReadySeconds === minReady) return rs;
    const next = { ...rs, spec: { ...spec(rs), minReadySeconds: minReady } };
    if (minReady === undefined) delete next.spec.minReadySeconds;
    return this.api.saveAsSystem(this.types.replicasets, next);
  }

  /** A template that returns to an older ReplicaSet (a rollback) makes it the newest revision again. */
  private bumpRevision(rs: KObject, all: KObject[]): KObject {
    const newest = Math.max(0, ...all.map(revision));
    if (revision(rs) >= newest) return rs;
    const annotations = { ...(rs.metadata.annotations ?? {}), [REVISION]: String(newest + 1) };
    return this.api.saveAsSystem(this.types.replicasets, { ...rs, metadata: { ...rs.metadata, annotations } });
  }

  /**
   * The hash that names the new ReplicaSet; when that name is taken by a ReplicaSet of another template (a hash
   * collision), status.collisionCount goes up and the next pass tries the next name, as the controller does.
   */
  private freeHash(d: KObject): string | undefined {
    const collisions = isRecord(d.status) && typeof d.status.collisionCount === 'number' ? d.status.collisionCount : 0;
    const hash = podTemplateHash(spec(d).template, collisions);
    if (!this.api.find(this.types.replicasets, d.metadata.namespace, `${d.metadata.name ?? ''}-${hash}`)) return hash;
    const fresh = this.api.find(this.types.deployments, d.metadata.namespace, d.metadata.name ?? '') ?? d;
    const status = { ...(isRecord(fresh.status) ? fresh.status : {}), collisionCount: collisions + 1 };
    this.api.saveAsSystem(this.types.deployments, { ...fresh, status }, 'status');
    return undefined;
  }

  private createReplicaSet(d: KObject, existing: KObject[]): KObject | undefined {
    const hash = this.freeHash(d);
    if (hash === undefined) return undefined;
    const stored = this.api.createAsSystem(this.types.replicasets, newReplicaSet(d, hash, existing));
    if (replicas(stored) > 0) this.scaledEvent(d, stored, 0, replicas(stored));
    return stored;
  }

  private scale(d: KObject, rs: KObject, to: number): void {
    const from = replicas(rs);
    const annotations = { ...(rs.metadata.annotations ?? {}), ...sizeAnnotations(d) };
    if (from === to && jsonEqual(annotations, rs.metadata.annotations)) return;
    const next = { ...rs, spec: { ...spec(rs), replicas: to } };
    next.metadata = { ...rs.metadata, annotations };
    this.api.saveAsSystem(this.types.replicasets, next);
    if (from !== to) this.scaledEvent(d, rs, from, to);
  }

  private scaledEvent(d: KObject, rs: KObject, from: number, to: number): void {
    const message = `Scaled ${to > from ? 'up' : 'down'} replica set ${rs.metadata.name ?? ''} from ${from} to ${to}`;
    this.api.createAsSystem(
      this.types.events,
      newEvent(
        d,
        { type: 'Normal', reason: 'ScalingReplicaSet', message, component: 'deployment-controller' },
        this.api.now(),
      ),
    );
  }

  private roll(d: KObject, newRs: KObject, olds: KObject[]): void {
    const desired = replicas(d);
    const { recreate, maxSurge, maxUnavailable } = rollingParams(d);
    if (recreate) {
      const oldPods = olds.reduce((n, rs) => n + replicas(rs) + statusNum(rs, 'replicas'), 0);
      for (const rs of olds) this.scale(d, rs, 0);
      if (oldPods === 0) this.scale(d, newRs, desired);
      return;
    }
    const total = replicas(newRs) + olds.reduce((n, rs) => n + replicas(rs), 0);
    if (replicas(newRs) > desired) this.scale(d, newRs, desired);
    else if (replicas(newRs) < desired && total < desired + maxSurge)
      this.scale(d, newRs, Math.min(desired, replicas(newRs) + desired + maxSurge - total));
    this.scaleDownOld(
      d,
      this.api.find(this.types.replicasets, newRs.metadata.namespace, newRs.metadata.name ?? '') ?? newRs,
      olds,
      desired - maxUnavailable,
    );
  }

  /** As rolling.go: first unhealthy old pods, then as many available ones as minAvailable allows. */
  private scaleDownOld(d: KObject, newRs: KObject, olds: KObject[], minAvailable: number): void {
    const live = olds.filter((rs) => replicas(rs) > 0).sort((a, b) => revision(a) - revision(b));
    if (live.length === 0) return;
    const all = [newRs, ...olds];
    const allPods = all.reduce((n, rs) => n + replicas(rs), 0);
    const newUnavailable = Math.max(0, replicas(newRs) - statusNum(newRs, 'availableReplicas'));
    let budget = allPods - minAvailable - newUnavailable;
    let available = all.reduce((n, rs) => n + Math.min(replicas(rs), statusNum(rs, 'availableReplicas')), 0);
    for (const rs of live) {
      if (budget <= 0) break;
      const availableHere = Math.min(replicas(rs), statusNum(rs, 'availableReplicas'));
      const unhealthy = replicas(rs) - availableHere;
      const healthyDown = Math.max(0, Math.min(availableHere, available - minAvailable, budget - unhealthy));
      const down = Math.min(budget, unhealthy + healthyDown);
      if (down <= 0) continue;
      this.scale(d, rs, replicas(rs) - down);
      budget -= down;
      available -= Math.max(0, down - unhealthy);
    }
  }

  /** Old ReplicaSets at zero beyond revisionHistoryLimit are deleted, oldest first. */
  private cleanup(d: KObject, all: KObject[], newRs: KObject | undefined): void {
    const limit = typeof spec(d).revisionHistoryLimit === 'number' ? (spec(d).revisionHistoryLimit as number) : 10;
    const idle = all
      .filter((rs) => rs !== newRs && replicas(rs) === 0 && statusNum(rs, 'replicas') === 0)
      .sort((a, b) => revision(a) - revision(b));
    for (const rs of idle.slice(0, Math.max(0, idle.length - limit))) {
      this.api.delete(
        { type: this.types.replicasets, namespace: rs.metadata.namespace, name: rs.metadata.name ?? '' },
        { propagationPolicy: 'Background' },
      );
    }
  }

  private syncRevision(d: KObject, newRs: KObject | undefined): void {
    const rev = newRs?.metadata.annotations?.[REVISION];
    if (!rev || d.metadata.annotations?.[REVISION] === rev) return;
    const fresh = this.api.find(this.types.deployments, d.metadata.namespace, d.metadata.name ?? '') ?? d;
    const metadata = { ...fresh.metadata, annotations: { ...(fresh.metadata.annotations ?? {}), [REVISION]: rev } };
    this.api.saveAsSystem(this.types.deployments, { ...fresh, metadata });
  }
}
