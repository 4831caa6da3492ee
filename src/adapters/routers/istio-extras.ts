import { cookieRegex, type MatchEntry } from '../../pipeline/policy/strategies.js';
import type { IntegerSplit } from '../../pipeline/policy/weights.js';
import { headerConditions, OWN, ownName, setCookie, type Affinity, type Extras } from './extras.js';
import {
  canaryDestination,
  isCanary,
  routeTemplate,
  splitRoute,
  type HttpMirror,
  type HttpRoute,
  type RouteDestination,
  type Tracks,
  type VirtualServiceSpec,
} from './istio-routes.js';

/**
 * Pure edits of a VirtualService for what Kubestead adds beside the weights (docs/strategies.md): before each split
 * route, an A/B route (its matches, each joined with the step's header conditions, to the canary) and a session
 * affinity route (the cookie, to the canary); on the split route, a `mirrors` entry to the canary and the canary
 * destination's Set-Cookie. Kubestead's routes are named `kubestead-…`; everything of the user's is kept.
 */

type MatchRequest = NonNullable<HttpRoute['match']>[number];
type HeaderMatch = NonNullable<MatchRequest['headers']>[string];
type Mirror = HttpMirror;

const SET_COOKIE = 'Set-Cookie';
const isOwnRoute = (route: HttpRoute): boolean => route.name?.startsWith(OWN) ?? false;
const ownMirror = (mirror: Mirror, tracks: Tracks): boolean =>
  mirror.destination !== undefined && isCanary({ destination: mirror.destination }, tracks);

/** The spec without Kubestead's additions: its routes and its mirror entries (the Set-Cookie goes with the split). */
export function withoutExtras(spec: VirtualServiceSpec, tracks: Tracks): VirtualServiceSpec {
  const routes: HttpRoute[] = spec.http ?? [];
  const http = routes.filter((route) => !isOwnRoute(route)).map((route) => withoutMirror(route, tracks));
  return { ...spec, http };
}

function withoutMirror(route: HttpRoute, tracks: Tracks): HttpRoute {
  if (!route.mirrors?.some((m) => ownMirror(m, tracks))) return route;
  const mirrors = route.mirrors.filter((m) => !ownMirror(m, tracks));
  const { mirrors: _mirrors, ...rest } = route;
  return mirrors.length > 0 ? { ...rest, mirrors } : rest;
}

/**
 * The routes at `indexes` (of a spec without additions) split at `split`, with the additions `extras` asks for.
 */
export function withExtras(
  spec: VirtualServiceSpec,
  { indexes, tracks }: { indexes: number[]; tracks: Tracks },
  split: IntegerSplit,
  extras: Extras,
): VirtualServiceSpec {
  const routes: HttpRoute[] = spec.http ?? [];
  const http = routes.flatMap((route, index): HttpRoute[] => {
    if (!indexes.includes(index)) return [route];
    const template = routeTemplate(route, tracks);
    if (!template) return [route];
    const label = route.name ?? `http-${index}`;
    const canary = canaryDestination(template, tracks);
    const added: HttpRoute[] = [];
    if (extras.match) added.push(ownRoute(route, ownName('ab', label), crossed(route, extras.match), canary));
    if (extras.affinity)
      added.push(ownRoute(route, ownName('affinity', label), crossed(route, [cookieEntry(extras.affinity)]), canary));
    return [...added, decorated(splitRoute(route, split, tracks), canary, tracks, extras)];
  });
  return { ...spec, http };
}

/** What of a spec is Kubestead's additions, to compare a live object with what a write would make of it. */
export function extrasOf(spec: VirtualServiceSpec, tracks: Tracks): unknown {
  const routes: HttpRoute[] = spec.http ?? [];
  return routes.map((route) =>
    isOwnRoute(route)
      ? route
      : {
          mirrors: (route.mirrors ?? []).filter((m) => ownMirror(m, tracks)),
          cookie: (route.route ?? [])
            .filter((d) => isCanary(d, tracks))
            .flatMap((d) => d.headers?.response?.add?.[SET_COOKIE] ?? []),
        },
  );
}

const cookieEntry = (affinity: Affinity): MatchEntry => ({
  cookie: { name: affinity.cookieName, value: affinity.value },
});

/** A route of Kubestead's: the user's route (retries, timeouts, headers …) with its own matches, to the canary. */
function ownRoute(route: HttpRoute, name: string, match: MatchRequest[], canary: RouteDestination): HttpRoute {
  return { ...route, name, match, route: [canary] };
}

/** Each of the route's match requests (or one matching all) joined with each entry's header conditions. */
function crossed(route: HttpRoute, entries: MatchEntry[]): MatchRequest[] {
  const base: MatchRequest[] = route.match?.length ? route.match : [{}];
  return base.flatMap((request) =>
    entries.map((entry) => {
      const headers: Record<string, HeaderMatch> = { ...(request.headers ?? {}) };
      for (const { name, match } of headerConditions(entry, (n, v) => ({ regex: cookieRegex(n, v) })))
        headers[name] = match;
      const { name: _name, ...rest } = request;
      return { ...rest, headers };
    }),
  );
}

/** The split route with the step's mirror entry and, under session affinity, the canary's Set-Cookie. */
function decorated(route: HttpRoute, canary: RouteDestination, tracks: Tracks, extras: Extras): HttpRoute {
  const withMirror =
    extras.mirror === undefined
      ? route
      : {
          ...route,
          mirrors: [
            ...(route.mirrors ?? []),
            { destination: canary.destination, percentage: { value: extras.mirror } } as Mirror,
          ],
        };
  const affinity = extras.affinity;
  if (!affinity) return withMirror;
  const dests = (withMirror.route ?? []).map((dest) => (isCanary(dest, tracks) ? withCookie(dest, affinity) : dest));
  return { ...withMirror, route: dests };
}

function withCookie(dest: RouteDestination, affinity: Affinity): RouteDestination {
  const response = dest.headers?.response ?? {};
  return {
    ...dest,
    headers: {
      ...dest.headers,
      response: { ...response, add: { ...(response.add ?? {}), [SET_COOKIE]: setCookie(affinity) } },
    },
  };
}
