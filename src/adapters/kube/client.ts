import {
  PatchStrategy,
  setHeaderOptions,
  type AppsV1Api,
  type CoreV1Api,
  type CoreV1Event,
  type CustomObjectsApi,
  type V1Deployment,
  type AutoscalingV2Api,
  type V2HorizontalPodAutoscaler,
} from '@kubernetes/client-node';
import { LRUCache } from 'lru-cache';
import type { PolicyObject } from './cache.js';
import type { KubeClients } from './clients.js';
import { isConflict, isNotFound, orMissing } from './errors.js';
import { ConfigObjects, type ConfigObjectKind } from './config-objects.js';
import { policyPath } from './names.js';

const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** How many of the resourceVersions our writes replaced are kept per object (read-your-writes). */
const REPLACED_KEPT = 32;

/**
 * What a /scale write may not do to the count the /scale holds at the moment of the write (read just before it, and
 * again after a conflict), for a Deployment another controller scales too (the user's HPA, docs/hpa.md):
 * - `live`: never lower it (the count written is at least the live one);
 * - `running`: leave a running count (above 0) as it is, only start one from 0.
 * The count computed from what the tick read earlier may be older than another writer's since.
 */
export type ScaleFloor = 'live' | 'running';

/** The count a /scale write gives: `wanted`, or what `floor` keeps of the `live` count. */
export function floored(wanted: number, live: number, floor: ScaleFloor | undefined): number {
  if (floor === 'running' && live > 0) return live;
  return floor ? Math.max(wanted, live) : wanted;
}

/**
 * Every API call the tick makes, each a direct request (never the cache): the writes carry the
 * resourceVersion they were computed from, so that a concurrent change answers 409 instead of
 * being overwritten.
 */
export class KubeClient {
  readonly apps: AppsV1Api;
  readonly core: CoreV1Api;
  private readonly custom: CustomObjectsApi;
  private readonly configMaps: ConfigObjects;
  private readonly secrets: ConfigObjects;
  private readonly autoscaling: AutoscalingV2Api;
  /**
   * Read-your-writes: the resourceVersions our writes replaced, the newest REPLACED_KEPT of each object. An
   * informer cache that still shows one of them has not seen our writes, and acting on it would repeat an action
   * (argo-rollouts #720). All of them, not the last only: a cache that stays behind for several of our writes (its
   * watch cut and its relist refused) shows an older one than the last write replaced.
   */
  private readonly replaced = new LRUCache<string, string[]>({ max: 20_000 });

  constructor(clients: KubeClients) {
    this.apps = clients.apps;
    this.core = clients.core;
    this.custom = clients.custom;
    this.configMaps = new ConfigObjects(clients.core, 'ConfigMap');
    this.secrets = new ConfigObjects(clients.core, 'Secret');
    this.autoscaling = clients.autoscaling;
  }

  private policyPath(namespace: string, name: string) {
    return policyPath(namespace, name);
  }

  private noteWrite(
    id: string,
    before: string | undefined,
    after: { metadata?: { resourceVersion?: string } } | undefined,
  ): void {
    if (before === undefined || after?.metadata?.resourceVersion === before) return;
    this.replaced.set(id, [...(this.replaced.get(id) ?? []), before].slice(-REPLACED_KEPT));
  }

  /** Whether a cached object is older than one of our own writes (then read it from the API instead). */
  isStale(
    kind: 'policy' | 'deployment',
    object: { metadata?: { namespace?: string; name?: string; resourceVersion?: string } },
  ): boolean {
    const { namespace = '', name = '', resourceVersion } = object.metadata ?? {};
    return (
      resourceVersion !== undefined &&
      (this.replaced.get(`${kind}/${namespace}/${name}`) ?? []).includes(resourceVersion)
    );
  }

  async readPolicy(namespace: string, name: string): Promise<PolicyObject | undefined> {
    try {
      return (await this.custom.getNamespacedCustomObject(this.policyPath(namespace, name))) as PolicyObject;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /** Replaces the status subresource; 409 when the policy changed since `policy` was read. */
  async writePolicyStatus(policy: PolicyObject, status: Record<string, unknown>): Promise<PolicyObject> {
    const { namespace = '', name = '' } = policy.metadata ?? {};
    const body = { apiVersion: policy.apiVersion, kind: policy.kind, metadata: policy.metadata, status };
    const written = (await this.custom.replaceNamespacedCustomObjectStatus({
      ...this.policyPath(namespace, name),
      body,
    })) as PolicyObject;
    this.noteWrite(`policy/${namespace}/${name}`, policy.metadata?.resourceVersion, written);
    return written;
  }

  /** A merge patch of the policy's metadata (finalizers, annotations), guarded by its resourceVersion. */
  async patchPolicyMetadata(policy: PolicyObject, metadata: Record<string, unknown>): Promise<PolicyObject> {
    const { namespace = '', name = '', resourceVersion } = policy.metadata ?? {};
    const body = { metadata: { ...metadata, resourceVersion } };
    const written = (await this.custom.patchNamespacedCustomObject(
      { ...this.policyPath(namespace, name), body },
      MERGE,
    )) as PolicyObject;
    this.noteWrite(`policy/${namespace}/${name}`, resourceVersion, written);
    return written;
  }

  async readDeployment(namespace: string, name: string): Promise<V1Deployment | undefined> {
    try {
      return await this.apps.readNamespacedDeployment({ namespace, name });
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /** ConfigMaps or Secrets of config tracking: the user's read, primary's copies written. */
  configObjects(kind: ConfigObjectKind): ConfigObjects {
    return kind === 'Secret' ? this.secrets : this.configMaps;
  }

  createDeployment(namespace: string, body: V1Deployment): Promise<V1Deployment> {
    return this.apps.createNamespacedDeployment({ namespace, body });
  }

  /** Replaces a Deployment (its metadata.resourceVersion guards the write). */
  async replaceDeployment(deployment: V1Deployment): Promise<V1Deployment> {
    const { namespace = '', name = '', resourceVersion } = deployment.metadata ?? {};
    const written = await this.apps.replaceNamespacedDeployment({ namespace, name, body: deployment });
    this.noteWrite(`deployment/${namespace}/${name}`, resourceVersion, written);
    return written;
  }

  async deleteDeployment(namespace: string, name: string, uid: string | undefined): Promise<void> {
    try {
      await this.apps.deleteNamespacedDeployment({
        namespace,
        name,
        body: { preconditions: uid ? { uid } : undefined, propagationPolicy: 'Background' },
      });
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }

  /**
   * Sets a Deployment's replicas through its /scale subresource (what an HPA or `kubectl scale`
   * uses), guarded by the resourceVersion of the scale just read. Returns the replicas read back.
   * `floor`: what the write may not do to the count the /scale holds when it is written (see ScaleFloor).
   */
  async scale(namespace: string, name: string, replicas: number, floor?: ScaleFloor): Promise<number> {
    try {
      return await this.scaleOnce(namespace, name, replicas, floor);
    } catch (error) {
      // The Deployment changed between read and write (its controller updates it often): read it
      // again and write the same absolute count once more (floored again); a second conflict fails the tick.
      if (!isConflict(error)) throw error;
      return this.scaleOnce(namespace, name, replicas, floor);
    }
  }

  private async scaleOnce(namespace: string, name: string, wanted: number, floor?: ScaleFloor): Promise<number> {
    const current = await this.apps.readNamespacedDeploymentScale({ namespace, name });
    const replicas = floored(wanted, current.spec?.replicas ?? 0, floor);
    if (current.spec?.replicas === replicas) return replicas;
    const body = { metadata: { resourceVersion: current.metadata?.resourceVersion }, spec: { replicas } };
    const written = await this.apps.patchNamespacedDeploymentScale({ namespace, name, body }, MERGE);
    this.noteWrite(`deployment/${namespace}/${name}`, current.metadata?.resourceVersion, written);
    return written.spec?.replicas ?? 0;
  }

  /** Creates primary's HPA (docs/hpa.md). */
  createAutoscaler(namespace: string, body: V2HorizontalPodAutoscaler): Promise<V2HorizontalPodAutoscaler> {
    return this.autoscaling.createNamespacedHorizontalPodAutoscaler({ namespace, body });
  }

  /** Reads an HPA (primary's, before a write that must not wait for the cache). */
  readAutoscaler(namespace: string, name: string): Promise<V2HorizontalPodAutoscaler> {
    return this.autoscaling.readNamespacedHorizontalPodAutoscaler({ namespace, name });
  }

  /** Replaces primary's HPA (its metadata.resourceVersion guards the write: 409 when it changed since). */
  replaceAutoscaler(body: V2HorizontalPodAutoscaler): Promise<V2HorizontalPodAutoscaler> {
    const { namespace = '', name = '' } = body.metadata ?? {};
    return this.autoscaling.replaceNamespacedHorizontalPodAutoscaler({ namespace, name, body });
  }

  /** Deletes primary's HPA, only the one with this uid (gone already is fine). */
  async deleteAutoscaler(namespace: string, name: string, uid: string | undefined): Promise<void> {
    await orMissing(
      this.autoscaling.deleteNamespacedHorizontalPodAutoscaler({
        namespace,
        name,
        body: { preconditions: uid ? { uid } : undefined },
      }),
    );
  }

  async createEvent(namespace: string, event: CoreV1Event): Promise<void> {
    await this.core.createNamespacedEvent({ namespace, body: event });
  }
}
