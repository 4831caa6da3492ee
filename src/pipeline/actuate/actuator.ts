import type { V1Deployment } from '@kubernetes/client-node';
import type { RouterWeight, TrafficRouter } from '../../adapters/routers/router.js';
import type { KubeClient } from '../../adapters/kube/client.js';
import { primaryTemplate } from './deployments.js';
import { configCopy, type TrackedConfig } from './config.js';

/** What one actuation changed and what was read back after it. */
export interface Applied {
  /** The canary count the target was given (read back from /scale). */
  canaryReplicas: number;
  /** False while a weighted router waits for the canary to be ready before it gets traffic. */
  weightSet: boolean;
  /** The canary's share as a weighted router's write left it (the API server's answer); unset otherwise. */
  weight?: RouterWeight;
}

export interface ActuatorTarget {
  namespace: string;
  target: V1Deployment;
  primary: V1Deployment;
  /** The target's tracked config (docs/operating.md): copied for primary when it is promoted. */
  config?: TrackedConfig;
}

/**
 * Applies decisions to the live objects, idempotently: the same call twice changes nothing the
 * second time. Replica counts go through /scale; traffic through the policy's router.
 */
export class Actuator {
  constructor(
    private readonly kube: KubeClient,
    readonly router: TrafficRouter,
    private readonly at: ActuatorTarget,
  ) {}

  private get targetName(): string {
    return this.at.target.metadata?.name ?? '';
  }

  /** Primary's replica count: the stable side every canary count is computed from. */
  get stableReplicas(): number {
    return this.at.primary.spec?.replicas ?? 1;
  }

  /** The canary count a weight asks for with this router and the current stable count. */
  canaryReplicasFor(weight: number): number {
    return this.router.canaryReplicas(weight, this.stableReplicas);
  }

  /**
   * Gives the canary `weight`: first the pods (its count for the weight), then the traffic, and a
   * weighted router's traffic only once every canary pod is ready (never weight to an unready canary).
   */
  async setCanaryWeight(weight: number, canaryReady: number): Promise<Applied> {
    const wanted = this.canaryReplicasFor(weight);
    const canaryReplicas = await this.kube.scale(this.at.namespace, this.targetName, wanted);
    if (this.router.kind !== 'replicas' && canaryReady < wanted) return { canaryReplicas, weightSet: false };
    return { canaryReplicas, weightSet: true, weight: await this.router.setWeight(weight) };
  }

  /**
   * Rollback: traffic to 0 first, read back as 0 (a weighted router then ends the rollout: nginx's
   * canary Ingress goes), and only then the canary pods to 0; primary untouched.
   */
  async rollback(): Promise<Applied> {
    const written = await this.router.setWeight(0);
    if (this.router.kind !== 'replicas') await this.endTraffic(written);
    const canaryReplicas = await this.kube.scale(this.at.namespace, this.targetName, 0);
    return { canaryReplicas, weightSet: true };
  }

  /** `written`: the share the write of 0 left, as the API server answered it. */
  private async endTraffic(written: RouterWeight | undefined): Promise<void> {
    const live = written ?? (await this.router.getWeight());
    if (live.weight !== 0)
      throw new Error(
        `rollback: the canary still gets ${live.weight}% after its weight was set to 0 (${live.detail}); it is not ` +
          `scaled down until that reads 0`,
      );
    await this.router.finalize();
  }

  /**
   * Promotion, first half: the copies get the canary's config, then primary gets the canary's template
   * pointing at them (its rollout is awaited by later ticks).
   */
  async startPromotion(): Promise<void> {
    const primary = structuredClone(this.at.primary);
    if (!primary.spec) return;
    await syncCopies(this.kube, this.at.namespace, this.at.config);
    primary.spec.template = primaryTemplate(this.at.target.spec?.template, this.at.config);
    await this.kube.replaceDeployment(primary);
  }

  /** Promotion, second half (primary rolled out): all traffic to primary, canary to 0. */
  async finishPromotion(): Promise<Applied> {
    await this.router.finalize();
    const canaryReplicas = await this.kube.scale(this.at.namespace, this.targetName, 0);
    return { canaryReplicas, weightSet: true };
  }

  /** A user's scale of the target: primary takes the count, the target goes back to its canary count. */
  async rescale(total: number, canaryWeight: number): Promise<Applied> {
    await this.kube.scale(this.at.namespace, this.at.primary.metadata?.name ?? '', total);
    const canaryReplicas = await this.kube.scale(
      this.at.namespace,
      this.targetName,
      this.router.canaryReplicas(canaryWeight, total),
    );
    return { canaryReplicas, weightSet: true };
  }
}

/** Writes primary's copy of every tracked ConfigMap with the data given (adoption and promotion). */
export async function syncCopies(
  kube: KubeClient,
  namespace: string,
  config: TrackedConfig | undefined,
): Promise<void> {
  for (const object of config?.data ?? []) await kube.putConfigMap(configCopy(namespace, object, config!.owner));
}
