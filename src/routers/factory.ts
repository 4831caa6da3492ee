import { ROUTER_KINDS, type TrafficRoutingSpec } from '../policy/schema.js';
import { ReplicaRouter } from './replicas.js';
import type { RouterContext, RouterKind, RouterProblem, RouterWeight, TrafficRouter } from './router.js';

/** The router kind a policy's trafficRouting names (the schema allows exactly one). */
export function routerKind(spec: TrafficRoutingSpec): RouterKind {
  return ROUTER_KINDS.find((kind) => spec[kind] !== undefined) ?? 'replicas';
}

/**
 * A router this build does not have yet: every call says so, and the tick reports it as
 * Ready=False. Never a fallback to the replica split, which would route differently from what
 * the policy asks for.
 */
class UnavailableRouter implements TrafficRouter {
  constructor(readonly kind: RouterKind) {}

  private get problem(): RouterProblem {
    return { reason: 'RouterUnavailable', message: `router ${this.kind} is not available in this build` };
  }

  prepare(): Promise<RouterProblem | null> {
    return Promise.resolve(this.problem);
  }

  canaryReplicas(): number {
    return 0;
  }

  setWeight(): Promise<void> {
    return Promise.reject(new Error(this.problem.message));
  }

  getWeight(): Promise<RouterWeight> {
    return Promise.reject(new Error(this.problem.message));
  }

  inexpressible(): string | null {
    return this.problem.message;
  }

  finalize(): Promise<void> {
    return Promise.resolve();
  }
}

/** The TrafficRouter for a policy's trafficRouting: exhaustive over RouterKind. */
export function createRouter(ctx: RouterContext): TrafficRouter {
  const kind = routerKind(ctx.target.spec.trafficRouting);
  switch (kind) {
    case 'replicas':
      return new ReplicaRouter(ctx);
    case 'istio':
    case 'gatewayAPI':
    case 'smi':
    case 'nginx':
      return new UnavailableRouter(kind);
    default: {
      const unknown: never = kind;
      throw new Error(`unknown router kind ${String(unknown)}`);
    }
  }
}
