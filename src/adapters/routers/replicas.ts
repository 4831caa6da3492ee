import type { AppsV1Api } from '@kubernetes/client-node';
import type { RouterContext, RouterProblem, RouterWeight, Traffic, TrafficRouter } from './router.js';

/** The canary never gets more than this many times the stable count (a weight near 100 asks for an unbounded count). */
export const MAX_CANARY_FACTOR = 10;

/** The canary's share of all pods, in percent (0 when there are none). */
export function replicaShare(canary: number, stable: number): number {
  return canary + stable === 0 ? 0 : (100 * canary) / (canary + stable);
}

/**
 * The canary count whose share of all pods is nearest `weight`, at least 1 and at most
 * MAX_CANARY_FACTOR × stable; 0 for a weight of 0. Ties go to the smaller count.
 */
export function nearestCanaryCount(weight: number, stable: number): number {
  if (weight <= 0) return 0;
  if (stable <= 0) return 1;
  const max = Math.max(1, MAX_CANARY_FACTOR * stable);
  const ideal = weight >= 100 ? max : (weight * stable) / (100 - weight);
  const candidates = [Math.floor(ideal), Math.ceil(ideal)].map((c) => Math.min(max, Math.max(1, c)));
  return candidates.reduce((best, c) =>
    Math.abs(replicaShare(c, stable) - weight) < Math.abs(replicaShare(best, stable) - weight) ? c : best,
  );
}

/**
 * The replica-count split: the user's Service selects primary and canary pods alike, so the
 * canary's share of traffic is its share of pods. The actuator's scale of the canary is the weight;
 * `setWeight` has nothing left to write, and `getWeight` reads both Deployments back.
 */
export class ReplicaRouter implements TrafficRouter {
  readonly kind = 'replicas' as const;
  readonly weighted = false;
  private readonly apps: AppsV1Api;

  constructor(private readonly ctx: RouterContext) {
    this.apps = ctx.clients.apps;
  }

  prepare(): Promise<RouterProblem | null> {
    return Promise.resolve(null);
  }

  canaryReplicas(weight: number, stableReplicas: number): number {
    return nearestCanaryCount(weight, stableReplicas);
  }

  setWeight(_weight: number): Promise<undefined> {
    return Promise.resolve(undefined);
  }

  /** Pods cannot match a header nor copy requests: validation refuses such a step (routing.ts, CAPABILITIES). */
  setTraffic(traffic: Traffic): Promise<undefined> {
    if (traffic.match !== undefined || traffic.mirror !== undefined)
      return Promise.reject(new Error('replica routing cannot route by header nor mirror traffic'));
    return this.setWeight(traffic.weight);
  }

  async getWeight(): Promise<RouterWeight> {
    const { namespace, canary, primary } = this.ctx.target;
    const [c, p] = await Promise.all([
      this.apps.readNamespacedDeployment({ namespace, name: canary }),
      this.apps.readNamespacedDeployment({ namespace, name: primary }),
    ]);
    const canaryCount = c.spec?.replicas ?? 0;
    const stableCount = p.spec?.replicas ?? 0;
    return {
      weight: replicaShare(canaryCount, stableCount),
      detail: `replicas: ${canaryCount} canary, ${stableCount} primary`,
    };
  }

  inexpressible(_weight: number): string | null {
    return null;
  }

  finalize(): Promise<void> {
    return Promise.resolve();
  }
}
