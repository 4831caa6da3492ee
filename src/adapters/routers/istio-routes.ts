import type { IVirtualService } from '@kubernetes-models/istio/networking.istio.io/v1beta1/VirtualService';
import type { RouterProblem } from './router.js';
import type { ServiceNames } from './services.js';
import type { IntegerSplit } from '../../pipeline/policy/weights.js';
import { coverage, shareOfRoute, templateOf, type Role, type RouteShare } from './tracks.js';

/**
 * Pure edits of a VirtualService's HTTP routes: which routes Kubestead splits, the split written
 * into them, and the share read back. Everything else of the object is kept as it was.
 */

export type VirtualServiceSpec = NonNullable<IVirtualService['spec']>;
type PublishedRoute = NonNullable<VirtualServiceSpec['http']>[number];
export type RouteDestination = NonNullable<PublishedRoute['route']>[number];
/** An HTTP mirror of `mirrors` (Istio ≥ 1.22; the published models predate it, the CRD has it). */
export interface HttpMirror {
  destination: NonNullable<RouteDestination['destination']>;
  percentage?: { value?: number };
}
export type HttpRoute = PublishedRoute & { mirrors?: HttpMirror[] };

/** How the two tracks are told apart: by host (`<svc>-primary`) or, with a DestinationRule, by subset. */
export type Tracks =
  | { by: 'service'; names: ServiceNames; namespace: string }
  | { by: 'subset'; names: ServiceNames; namespace: string; stable: string; canary: string };

/** The Service a host names in `namespace` (`checkout`, `checkout.shop`, `checkout.shop.svc.cluster.local`). */
export function serviceOfHost(host: string | undefined, namespace: string): string | undefined {
  const [service, ...rest] = (host ?? '').split('.');
  if (!service) return undefined;
  if (rest.length === 0) return service;
  const [ns, svc] = rest;
  return ns === namespace && (svc === undefined || svc === 'svc') ? service : undefined;
}

function roleOf(dest: RouteDestination, tracks: Tracks): Role {
  // The CRD requires a destination; the published types leave it optional: without one it is not ours.
  if (!dest.destination) return 'other';
  const { host, subset } = dest.destination;
  const service = serviceOfHost(host, tracks.namespace);
  const { names } = tracks;
  if (tracks.by === 'subset') {
    if (service !== names.service) return 'other';
    if (subset === undefined) return 'unsplit';
    if (subset === tracks.stable) return 'primary';
    return subset === tracks.canary ? 'canary' : 'other';
  }
  if (service === names.primary) return 'primary';
  if (service === names.canary) return 'canary';
  return service === names.service ? 'unsplit' : 'other';
}

const routeLabel = (route: HttpRoute, index: number) => (route.name ? `route "${route.name}"` : `http[${index}]`);

function targets(route: HttpRoute, tracks: Tracks): 'all' | 'none' | 'some' {
  return coverage((route.route ?? []).map((d) => roleOf(d, tracks)));
}

/**
 * The indexes of the HTTP routes to split: the named ones (each must exist and send only to the
 * target's Service), or every route that sends to it when no names are given.
 */
export function selectRoutes(
  spec: VirtualServiceSpec,
  names: string[] | undefined,
  tracks: Tracks,
  where: string,
): number[] | RouterProblem {
  const http = spec.http ?? [];
  const service = tracks.names.service;
  const mismatch = (route: HttpRoute, index: number): RouterProblem => ({
    reason: 'RouteMismatch',
    message:
      `${where} ${routeLabel(route, index)} sends traffic to other hosts than Service ${service}; Kubestead ` +
      `splits only routes to the target's Service`,
  });
  if (names === undefined) {
    const mixed = http.findIndex((r) => targets(r, tracks) === 'some');
    if (mixed >= 0) return mismatch(http[mixed] as HttpRoute, mixed);
    const chosen = http.flatMap((r, i) => (targets(r, tracks) === 'all' ? [i] : []));
    return chosen.length > 0
      ? chosen
      : { reason: 'RouteMismatch', message: `${where} has no HTTP route to Service ${service}` };
  }
  const chosen: number[] = [];
  for (const name of names) {
    const index = http.findIndex((r) => r.name === name);
    const route = http[index];
    if (!route) {
      const known =
        http
          .map((r) => r.name)
          .filter(Boolean)
          .join(', ') || 'none named';
      return { reason: 'RouteMissing', message: `${where} has no HTTP route named "${name}" (routes: ${known})` };
    }
    if (targets(route, tracks) !== 'all') return mismatch(route, index);
    chosen.push(index);
  }
  return chosen;
}

function trackDestination(
  template: RouteDestination,
  tracks: Tracks,
  role: 'primary' | 'canary',
  weight: number,
): RouteDestination {
  const destination = { ...template.destination };
  if (tracks.by === 'subset') {
    destination.subset = role === 'primary' ? tracks.stable : tracks.canary;
  } else {
    const [, ...rest] = (destination.host ?? '').split('.');
    destination.host = [tracks.names[role], ...rest].join('.');
  }
  return { ...template, destination, weight };
}

/** The destination a route's split is copied from (its primary one, else the user's Service). */
export function routeTemplate(route: HttpRoute, tracks: Tracks): RouteDestination | undefined {
  return templateOf(route.route ?? [], (d) => roleOf(d, tracks));
}

/** A route's destinations as primary and canary at the split's weights; nothing else of it changes. */
export function splitRoute(route: HttpRoute, split: IntegerSplit, tracks: Tracks): HttpRoute {
  const template = routeTemplate(route, tracks);
  if (!template) return route;
  return {
    ...route,
    route: [
      trackDestination(template, tracks, 'primary', split.primary),
      trackDestination(template, tracks, 'canary', split.canary),
    ],
  };
}

/** The canary track's destination of a route, without a weight (a route of Kubestead's own, a mirror). */
export function canaryDestination(template: RouteDestination, tracks: Tracks): RouteDestination {
  const { weight: _weight, ...rest } = trackDestination(template, tracks, 'canary', 0);
  return rest;
}

/** Whether a destination is the canary track. */
export const isCanary = (dest: RouteDestination, tracks: Tracks): boolean => roleOf(dest, tracks) === 'canary';

/** The routes at `indexes` sent to primary and canary at the split's weights; nothing else changes. */
export function withSplit(
  spec: VirtualServiceSpec,
  indexes: number[],
  split: IntegerSplit,
  tracks: Tracks,
): VirtualServiceSpec {
  const http = (spec.http ?? []).map((route, index) =>
    indexes.includes(index) ? splitRoute(route, split, tracks) : route,
  );
  return { ...spec, http };
}

/** The routes at `indexes` back to one destination, the user's Service (as before Kubestead split them). */
export function withoutSplit(spec: VirtualServiceSpec, indexes: number[], tracks: Tracks): VirtualServiceSpec {
  const http = (spec.http ?? []).map((route, index) => {
    const template = templateOf(route.route ?? [], (d) => roleOf(d, tracks));
    if (!indexes.includes(index) || !template) return route;
    const destination = { ...template.destination };
    if (tracks.by === 'subset') delete destination.subset;
    else destination.host = [tracks.names.service, ...(destination.host ?? '').split('.').slice(1)].join('.');
    const { weight: _weight, ...rest } = template;
    return { ...route, route: [{ ...rest, destination }] };
  });
  return { ...spec, http };
}

/** Each selected route's canary weight out of its total (a lone destination without a weight gets 100). */
export function routeShares(spec: VirtualServiceSpec, indexes: number[], tracks: Tracks): RouteShare[] {
  const http = spec.http ?? [];
  return indexes.map((index) => {
    const route = http[index] as HttpRoute;
    const dests = route.route ?? [];
    return shareOfRoute(
      routeLabel(route, index),
      dests,
      (d) => roleOf(d, tracks),
      (d) => d.weight ?? (dests.length === 1 ? 100 : 0),
    );
  });
}
