import { isDeepStrictEqual } from 'node:util';
import type { V1Deployment, V1DeploymentStrategy, V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import type { RouterWeight, Traffic, TrafficRouter } from '../../adapters/routers/router.js';
import type { KubeClient } from '../../adapters/kube/client.js';
import { primaryTemplate, rolledOut } from './deployments.js';
import { readModifyWrite } from '../../adapters/kube/objects.js';
import { configCopy, type TrackedConfig } from './config.js';
import { canaryCount, withFloor, type CanarySizing } from './autoscaler.js';

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
  /** The target has a user's HPA: how the canary is sized against it (docs/hpa.md); undefined without one. */
  sizing?: CanarySizing;
  /** Primary's own HPA (a copy of the user's), when there is one. */
  primaryAutoscaler?: V2HorizontalPodAutoscaler;
  /**
   * A blue-green rollout: primary runs at full count throughout, so a rollback is one write back to it, at once, with
   * or without an HPA (docs/strategies.md).
   */
  blueGreen?: boolean;
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
   * The canary count a step's traffic asks for: its weight's, or a mirror's share of primary's requests; an A/B
   * step (weight 0) still needs a pod to answer the requests that match; a blue-green stage, primary's full count.
   */
  canaryReplicasForTraffic(traffic: Traffic): number {
    if (traffic.stage) return this.stableReplicas;
    const pods = this.canaryReplicasFor(Math.max(traffic.weight, traffic.mirror ?? 0));
    return canaryCount(
      traffic.match ? Math.max(1, pods) : pods,
      0,
      this.at.sizing && { ...this.at.sizing, byAutoscaler: false },
    );
  }

  /**
   * The canary count this actuation gives: the traffic's, except that with a user's HPA a running canary is never
   * lowered (and, with `canaryScale: autoscaled`, keeps its own count): Kubestead never writes its /scale against the
   * HPA's. `keep`: a count a running canary keeps when its share is less (a hold keeps its pods; docs/hpa.md).
   */
  canaryReplicasToGive(traffic: Traffic, keep = 0): number {
    const live = this.at.target.spec?.replicas ?? 0;
    if (traffic.stage) {
      if (!this.at.sizing) return this.canaryReplicasForTraffic(traffic);
      // Blue-green: at least primary's full count, and never under what the user's HPA gave the new version.
      return Math.max(this.stableReplicas, Math.min(live, this.at.sizing.maxReplicas));
    }
    const share = this.canaryReplicasForTraffic(traffic);
    const given = this.at.sizing ? canaryCount(share, live, this.at.sizing) : share;
    return given > 0 ? Math.max(given, keep) : given;
  }

  /**
   * Writes a count of a running canary (0 ends it, unfloored). With a user's HPA, that HPA may have written the
   * canary's /scale since the tick read the target, so the floor is applied to the count the /scale holds at the
   * write (docs/hpa.md): with `canaryScale: autoscaled` a running canary's count is the HPA's alone (Kubestead only
   * starts it from 0); otherwise Kubestead only raises it. Either way it never writes against the HPA's newest count.
   */
  private scaleCanary(replicas: number): Promise<number> {
    const sizing = this.at.sizing;
    if (!sizing || replicas <= 0) return this.kube.scale(this.at.namespace, this.targetName, replicas);
    return this.kube.scale(this.at.namespace, this.targetName, replicas, sizing.byAutoscaler ? 'running' : 'live');
  }

  /** setCanaryTraffic with a weight only (a canary step). */
  async setCanaryWeight(weight: number, canaryReady: number): Promise<Applied> {
    return this.setCanaryTraffic({ weight }, canaryReady);
  }

  /**
   * Gives the canary a step's traffic (its weight, an A/B match or a mirror): first the pods, then the traffic,
   * and a weighted router's only once every canary pod is ready (never traffic to an unready canary). A blue-green
   * preview is the other way round: the user's traffic is held on primary (and the preview Service made) before the
   * new version's pods start, so that none of them is ever reached by the user's Service. `keep`: see
   * canaryReplicasToGive.
   */
  async setCanaryTraffic(traffic: Traffic, canaryReady: number, keep = 0): Promise<Applied> {
    const wanted = this.canaryReplicasToGive(traffic, keep);
    if (traffic.stage === 'preview') {
      const weight = await this.router.setTraffic(traffic);
      const canaryReplicas = await this.scaleCanary(wanted);
      return { canaryReplicas, weightSet: true, ...(weight ? { weight } : {}) };
    }
    const canaryReplicas = await this.scaleCanary(wanted);
    // every pod of the canary ready: the count the /scale holds, which the user's HPA may have raised over `wanted`
    if (this.router.weighted && canaryReady < canaryReplicas) return { canaryReplicas, weightSet: false };
    return { canaryReplicas, weightSet: true, weight: await this.router.setTraffic(traffic) };
  }

  /**
   * Rollback: traffic to 0 first, read back as 0 (a weighted router then ends the rollout: nginx's
   * canary Ingress goes), and only then the canary pods to 0; primary untouched.
   */
  async rollback(): Promise<Applied> {
    const written = await this.router.setWeight(0);
    if (this.router.weighted) await this.endTraffic(written);
    const canaryReplicas = await this.kube.scale(this.at.namespace, this.targetName, 0);
    return { canaryReplicas, weightSet: true };
  }

  /**
   * Rollback of an autoscaled target, first half (docs/hpa.md): the canary's pods carry part of the load, so before its
   * traffic and pods go, primary takes the serving count (its pods and the canary's, at most its HPA's maximum, which
   * its HPA holds as its minimum meanwhile, as at a promotion). True when primary already serves that count ready and
   * rollback() may follow at once; otherwise a later tick goes on once primary has rolled out (tick/rollback.ts).
   * Without a user's HPA or a running canary, and in blue-green (primary never left its full count): true, nothing
   * written.
   */
  async prepareRollback(): Promise<boolean> {
    if (!this.at.sizing || this.at.blueGreen || (this.at.target.spec?.replicas ?? 0) === 0) return true;
    const replicas = await this.holdServingCount();
    if (replicas <= this.stableReplicas && rolledOut(this.at.primary)) return true;
    await this.rewritePrimary((spec) => ({ ...spec, replicas: Math.max(replicas, spec.replicas ?? 1) }));
    return false;
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
   * pointing at them (its rollout is awaited by later ticks). `keepCapacity` (a fast revert, which has
   * walked no step): primary keeps its serving count of ready pods through the switch, rolling with
   * maxUnavailable 0 (continuePromotion gives it the target's strategy back once rolled out).
   */
  async startPromotion(keepCapacity = false): Promise<void> {
    const primary = structuredClone(this.at.primary);
    if (!primary.spec) return;
    await syncCopies(this.kube, this.at.namespace, this.at.config);
    primary.spec.template = primaryTemplate(this.at.target.spec?.template, this.at.config);
    // Autoscaled (docs/hpa.md): primary is to carry the canary's load too once traffic moves, so it takes the serving
    // count (its own and the canary's pods) before, and keeps its ready pods through the switch; its HPA takes over.
    if (!this.at.sizing) {
      if (keepCapacity) primary.spec.strategy = surgeOnly(primary.spec.strategy);
      await this.kube.replaceDeployment(primary);
      return;
    }
    const replicas = await this.holdServingCount();
    // Primary's HPA and Deployment controller write it often: read fresh, and again after a conflict.
    await this.rewritePrimary((spec) => ({
      ...spec,
      template: primary.spec!.template,
      replicas: Math.max(replicas, spec.replicas ?? 1),
      strategy: surgeOnly(spec.strategy),
    }));
  }

  /** Writes primary's spec as `change` makes it from the live one (read fresh; once more after a conflict). */
  private async rewritePrimary(
    change: (spec: NonNullable<V1Deployment['spec']>) => V1Deployment['spec'],
  ): Promise<void> {
    const name = this.at.primary.metadata?.name ?? '';
    await readModifyWrite(
      () => this.kube.readDeployment(this.at.namespace, name),
      (live) => (live?.spec ? { ...live, spec: change(live.spec) } : undefined),
      (next) => this.kube.replaceDeployment(next),
    );
  }

  /**
   * Primary's HPA must not take the serving count away before the load moves (its window keeps recommendations, not
   * counts): its minimum is raised to that count first (at most its maximum); the autoscale stage keeps it there
   * while the promotion (or a rollback's wait for primary) lasts and gives the user's minimum back after.
   */
  private async holdServingCount(): Promise<number> {
    const copy = this.at.primaryAutoscaler;
    const serving = this.servingReplicas;
    if (!copy?.spec) return serving;
    // Its controller writes its status often: read it fresh, and again after a conflict.
    const { namespace = '', name = '' } = copy.metadata ?? {};
    const held = await readModifyWrite(
      () => this.kube.readAutoscaler(namespace, name),
      (live) => (live.spec ? { ...live, spec: withFloor(live.spec, serving) } : undefined),
      (next) => this.kube.replaceAutoscaler(next),
    );
    return Math.min(serving, held.spec?.maxReplicas ?? serving);
  }

  /** The pods that serve now: primary's and the canary's. */
  get servingReplicas(): number {
    return this.stableReplicas + (this.at.target.spec?.replicas ?? 0);
  }

  /**
   * Promotion, second half (primary rolled out): all traffic to primary, canary to 0; primary gets the
   * target's rollout strategy back if a fast revert changed it.
   */
  async finishPromotion(): Promise<Applied> {
    await this.router.finalize();
    const strategy = this.at.target.spec?.strategy;
    const primary = this.at.primary;
    if (primary.spec && !isDeepStrictEqual(primary.spec.strategy, strategy))
      await this.rewritePrimary((spec) => ({ ...spec, strategy }));
    const canaryReplicas = await this.kube.scale(this.at.namespace, this.targetName, 0);
    return { canaryReplicas, weightSet: true };
  }

  /**
   * A user's scale of the target: primary takes the count, the target goes back to its canary count for the traffic
   * it has (a blue-green stage's: the new count).
   */
  async rescale(total: number, traffic: Traffic): Promise<Applied> {
    await this.kube.scale(this.at.namespace, this.at.primary.metadata?.name ?? '', total);
    const canaryReplicas = await this.kube.scale(
      this.at.namespace,
      this.targetName,
      rescaled(this.router, total, traffic),
    );
    return { canaryReplicas, weightSet: true };
  }
}

/** The canary count after a scale to `total`: a blue-green stage's is `total`, a step's its weight's. */
export function rescaled(router: TrafficRouter, total: number, traffic: Traffic): number {
  return traffic.stage ? total : router.canaryReplicas(traffic.weight, total);
}

/**
 * A rolling update that never takes a ready pod away before its replacement is ready: maxUnavailable 0,
 * and the surge given (at least 1, so that it can progress). Recreate becomes such a rolling update.
 */
export function surgeOnly(strategy: V1DeploymentStrategy | undefined): V1DeploymentStrategy {
  const given = strategy?.type === 'Recreate' ? undefined : strategy?.rollingUpdate?.maxSurge;
  const maxSurge = given === undefined || given === 0 || given === '0%' ? 1 : given;
  return { type: 'RollingUpdate', rollingUpdate: { maxSurge, maxUnavailable: 0 } };
}

/** Writes primary's copy of every tracked ConfigMap and Secret with the data given (adoption and promotion). */
export async function syncCopies(
  kube: KubeClient,
  namespace: string,
  config: TrackedConfig | undefined,
): Promise<void> {
  for (const object of config?.data ?? [])
    await kube.configObjects(object.kind).put(configCopy(namespace, object, config!.owner));
}
