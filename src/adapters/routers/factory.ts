import { ROUTER_KINDS, type TrafficRoutingSpec } from '../../pipeline/policy/schema.js';
import { ReplicaRouter } from './replicas.js';
import { ServiceSwitchRouter } from './blue-green.js';
import type { RouterContext, RouterKind, TrafficRouter } from './router.js';
import { createWeightedRouter } from './weighted.js';

/** The router kind a policy's trafficRouting names (the schema allows exactly one). */
export function routerKind(spec: TrafficRoutingSpec): RouterKind {
  return ROUTER_KINDS.find((kind) => spec[kind] !== undefined) ?? 'replicas';
}

/** The TrafficRouter for a policy's trafficRouting: exhaustive over RouterKind. */
export function createRouter(ctx: RouterContext): TrafficRouter {
  const kind = routerKind(ctx.target.spec.trafficRouting);
  switch (kind) {
    case 'replicas':
      // Blue-green switches the user's Service whole (blue-green.ts); a canary splits it by pod count.
      return ctx.target.spec.blueGreen ? new ServiceSwitchRouter(ctx) : new ReplicaRouter(ctx);
    case 'istio':
    case 'gatewayAPI':
    case 'smi':
    case 'nginx':
      return createWeightedRouter(kind, ctx);
    default: {
      const unknown: never = kind;
      throw new Error(`unknown router kind ${String(unknown)}`);
    }
  }
}
