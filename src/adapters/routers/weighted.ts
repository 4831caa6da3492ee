import { GatewayApiBackend } from './gateway-api.js';
import { IstioBackend } from './istio.js';
import { NginxBackend } from './nginx.js';
import type { RouterContext, TrafficRouter } from './router.js';
import { SmiBackend } from './smi.js';
import { WeightedRouter, type RouteBackend, type WeightedKind } from './weighted-router.js';

export type { WeightedKind } from './weighted-router.js';
export { RouterStateError } from './weighted-router.js';

/** A problem with the policy itself: its trafficRouting does not hold the settings of `kind`. */
function missingSettings(kind: WeightedKind): Error {
  return new Error(`spec.trafficRouting.${kind} is not set`);
}

function backendFor(kind: WeightedKind, ctx: RouterContext): RouteBackend {
  const routing = ctx.target.spec.trafficRouting;
  switch (kind) {
    case 'istio':
      if (!routing.istio) throw missingSettings(kind);
      return new IstioBackend(routing.istio);
    case 'gatewayAPI':
      if (!routing.gatewayAPI) throw missingSettings(kind);
      return new GatewayApiBackend(routing.gatewayAPI);
    case 'smi':
      if (!routing.smi) throw missingSettings(kind);
      return new SmiBackend(routing.smi);
    case 'nginx':
      if (!routing.nginx) throw missingSettings(kind);
      return new NginxBackend(routing.nginx);
    default: {
      const unknown: never = kind;
      throw new Error(`unknown router kind ${String(unknown)}`);
    }
  }
}

/** The router for a mesh or ingress (every kind but the replica split), for the exhaustive factory. */
export function createWeightedRouter(kind: WeightedKind, ctx: RouterContext): TrafficRouter {
  return new WeightedRouter(backendFor(kind, ctx), ctx);
}
