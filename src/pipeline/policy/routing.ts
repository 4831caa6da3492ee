import type { PolicyIssue } from './issues.js';
import { ROUTER_KINDS, type RouterKind } from './schema.js';
import { decimalsOf, integerSplit, MAX_DECIMALS, percentText } from './weights.js';
import { canaryName } from './vocabulary.js';
import { COOKIE_ALWAYS, STRING_MATCHES } from './strategies.js';

/**
 * Which weights and settings a router can really carry out. Pure (no I/O): `kubestead validate`
 * and the controller both ask it, so that a weight is refused, never rounded.
 */

interface DecimalLimit {
  maxDecimals: number;
  /** Why, for the message: the integer the router's API or data plane holds. */
  because: string;
}

/** The Services Kubestead creates are named `<svc>-primary` and `<svc>-canary`: DNS labels. */
const SERVICE_NAME_MAX = 63;
const OBJECT_NAME_MAX = 253;

function limitOf(kind: RouterKind): DecimalLimit | null {
  switch (kind) {
    case 'replicas':
      // The replica split gives the pod count nearest the share; status shows what it gives (docs/architecture.md,
      // "Traffic and lifecycle").
      return null;
    case 'istio':
      return { maxDecimals: 7, because: 'VirtualService weights are 32-bit integers' };
    case 'gatewayAPI':
      return { maxDecimals: 4, because: 'an HTTPRoute backend weight is at most 1000000' };
    case 'smi':
      return {
        maxDecimals: 3,
        because:
          "Linkerd's SMI extension hands each backend weight to its proxies as a 32-bit count of 1/10000 units, at " +
          'most 429496',
      };
    case 'nginx':
      return { maxDecimals: 7, because: 'ingress-nginx reads canary-weight-total as a 32-bit integer' };
    default: {
      const unknown: never = kind;
      throw new Error(`unknown router kind ${String(unknown)}`);
    }
  }
}

/** Why `kind` cannot route `weight` percent exactly, or null when it can. */
export function inexpressibleWeight(kind: RouterKind, weight: number): string | null {
  if (!Number.isFinite(weight) || weight < 0 || weight > 100)
    return `weight ${weight} is not a percent between 0 and 100`;
  const decimals = decimalsOf(weight);
  if (decimals === null) return `weight ${percentText(weight)} has more than ${MAX_DECIMALS} decimal places`;
  const limit = limitOf(kind);
  if (limit === null || decimals <= limit.maxDecimals) return null;
  const total = integerSplit(weight)?.total ?? 0;
  const finest = 10 ** -limit.maxDecimals;
  return (
    `${kind} cannot route ${percentText(weight)}% exactly: it needs weights out of ${total}, but ${limit.because} ` +
    `(at most ${limit.maxDecimals} decimal places, ${finest.toFixed(limit.maxDecimals)}%)`
  );
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const WEIGHTED = ['istio', 'gatewayAPI', 'smi', 'nginx'] as const;

/**
 * Router settings that cannot work, for the policy's semantic checks. Runs on the raw spec and is
 * tolerant of wrong types (the schema reports those).
 */
export function routingIssues(spec: unknown): PolicyIssue[] {
  if (!isObj(spec)) return [];
  return [...weightedIssues(spec), ...capabilityIssues(spec)];
}

function weightedIssues(spec: Obj): PolicyIssue[] {
  if (!isObj(spec.trafficRouting)) return [];
  const routing = spec.trafficRouting;
  const present = WEIGHTED.filter((kind) => isObj(routing[kind]));
  if (present.length !== 1) return [];
  const kind = present[0] as (typeof WEIGHTED)[number];
  const settings = routing[kind] as Obj;
  const at = (...rest: (string | number)[]) => ['spec', 'trafficRouting', kind, ...rest];
  return [
    ...weightIssues(kind, spec.steps),
    ...serviceNameIssues(settings, at),
    ...(kind === 'istio' ? istioIssues(settings, at) : []),
    ...(kind === 'nginx' ? nginxIssues(settings, at) : []),
  ];
}

function weightIssues(kind: RouterKind, steps: unknown): PolicyIssue[] {
  if (!Array.isArray(steps)) return [];
  return steps.flatMap((step: unknown, index) => {
    if (!isObj(step) || typeof step.weight !== 'number') return [];
    const why = inexpressibleWeight(kind, step.weight);
    return why === null ? [] : [{ path: ['spec', 'steps', index, 'weight'], message: why }];
  });
}

type At = (...rest: (string | number)[]) => (string | number)[];

function nameOf(value: unknown): string | undefined {
  return isObj(value) && typeof value.name === 'string' ? value.name : undefined;
}

function serviceNameIssues(settings: Obj, at: At): PolicyIssue[] {
  const service = nameOf(settings.service);
  if (service === undefined || `${service}-primary`.length <= SERVICE_NAME_MAX) return [];
  return [
    {
      path: at('service', 'name'),
      message:
        `Service name is too long: Kubestead creates "<name>-primary", and a Service name has at most ` +
        `${SERVICE_NAME_MAX} characters`,
    },
  ];
}

function istioIssues(settings: Obj, at: At): PolicyIssue[] {
  const issues: PolicyIssue[] = [];
  const routes = isObj(settings.virtualService) ? settings.virtualService.routes : undefined;
  if (Array.isArray(routes)) {
    if (routes.length === 0)
      issues.push({
        path: at('virtualService', 'routes'),
        message: 'an empty routes list would edit no route; omit it to edit every HTTP route',
      });
    const seen = new Map<unknown, number>();
    routes.forEach((route, index) => {
      const first = seen.get(route);
      if (first !== undefined)
        issues.push({
          path: at('virtualService', 'routes', index),
          message: `duplicate route "${String(route)}" (first at routes[${first}])`,
        });
      else seen.set(route, index);
    });
  }
  const rule = settings.destinationRule;
  if (isObj(rule) && typeof rule.canarySubsetName === 'string' && rule.canarySubsetName === rule.stableSubsetName) {
    issues.push({
      path: at('destinationRule', 'canarySubsetName'),
      message: `the canary and stable subsets must differ; both are "${rule.canarySubsetName}"`,
    });
  }
  return issues;
}

function nginxIssues(settings: Obj, at: At): PolicyIssue[] {
  const ingress = nameOf(settings.ingress);
  if (ingress === undefined || canaryName(ingress).length <= OBJECT_NAME_MAX) return [];
  return [
    {
      path: at('ingress', 'name'),
      message:
        `Ingress name is too long: Kubestead creates "<name>-canary", and an Ingress name has at most ` +
        `${OBJECT_NAME_MAX} characters`,
    },
  ];
}

/**
 * What each router can carry out besides weights (docs/strategies.md, "Support"): a step kind or field
 * the policy's router lacks is refused with its path and the routers that have it.
 */
export const CAPABILITIES = {
  headerMatch: { routers: ['istio', 'gatewayAPI', 'nginx'], cannot: 'route by header' },
  headerPrefix: { routers: ['istio'], cannot: 'match a header by prefix' },
  mirror: { routers: ['istio', 'gatewayAPI', 'nginx'], cannot: 'mirror traffic' },
  mirrorPart: {
    routers: ['istio', 'gatewayAPI'],
    cannot: 'mirror a part of the requests (ingress-nginx mirror-target copies every request; use 100)',
  },
  sessionAffinity: { routers: ['istio', 'gatewayAPI'], cannot: 'keep a session on the canary' },
  blueGreen: { routers: ROUTER_KINDS, cannot: 'switch between versions' },
} as const satisfies Record<string, { routers: readonly RouterKind[]; cannot: string }>;

export type Capability = keyof typeof CAPABILITIES;

/** Whether `kind` can carry out `capability`. */
export function can(kind: RouterKind, capability: Capability): boolean {
  return (CAPABILITIES[capability].routers as readonly RouterKind[]).includes(kind);
}

/** `replica routing`, `istio routing`: the router as a message names it. */
export const routingText = (kind: RouterKind): string => (kind === 'replicas' ? 'replica routing' : `${kind} routing`);

function listText(kinds: readonly string[]): string {
  return kinds.length <= 1 ? (kinds[0] ?? '') : `${kinds.slice(0, -1).join(', ')} or ${kinds[kinds.length - 1]}`;
}

/** `replica routing cannot route by header; use istio, gatewayAPI or nginx` */
export function cannotMessage(kind: RouterKind, capability: Capability): string {
  const { routers, cannot } = CAPABILITIES[capability];
  return `${routingText(kind)} cannot ${cannot}; use ${listText(routers)}`;
}

/** The router a raw spec names: the one key of trafficRouting, replicas without it; undefined when the schema refuses. */
function routerOfRaw(spec: Obj): RouterKind | undefined {
  if (spec.trafficRouting === undefined) return 'replicas';
  if (!isObj(spec.trafficRouting)) return undefined;
  const routing = spec.trafficRouting;
  const present = ROUTER_KINDS.filter((kind) => routing[kind] !== undefined);
  return present.length === 1 ? present[0] : undefined;
}

export function capabilityIssues(spec: Obj): PolicyIssue[] {
  const kind = routerOfRaw(spec);
  if (kind === undefined) return [];
  const issues: PolicyIssue[] = [];
  const refuse = (path: (string | number)[], capability: Capability) => {
    if (!can(kind, capability)) issues.push({ path, message: cannotMessage(kind, capability) });
  };
  if (isObj(spec.trafficRouting) && spec.trafficRouting.sessionAffinity !== undefined)
    refuse(['spec', 'trafficRouting', 'sessionAffinity'], 'sessionAffinity');
  (Array.isArray(spec.steps) ? spec.steps : []).forEach((step: unknown, index) => {
    if (!isObj(step)) return;
    const at = (...rest: (string | number)[]) => ['spec', 'steps', index, ...rest];
    if (step.mirror !== undefined) {
      refuse(at('mirror'), 'mirror');
      if (can(kind, 'mirror') && typeof step.mirror === 'number' && step.mirror !== 100)
        refuse(at('mirror'), 'mirrorPart');
    }
    if (!Array.isArray(step.match)) return;
    if (!can(kind, 'headerMatch')) return refuse(at('match'), 'headerMatch');
    issues.push(...prefixIssues(kind, step.match, at), ...(kind === 'nginx' ? nginxMatchIssues(step.match, at) : []));
  });
  return issues;
}

function headersOf(entry: unknown): [string, Obj][] {
  if (!isObj(entry) || !isObj(entry.headers)) return [];
  return Object.entries(entry.headers).flatMap(([name, match]) =>
    isObj(match) ? [[name, match] as [string, Obj]] : [],
  );
}

function prefixIssues(kind: RouterKind, match: unknown[], at: At): PolicyIssue[] {
  if (can(kind, 'headerPrefix')) return [];
  return match.flatMap((entry, i) =>
    headersOf(entry)
      .filter(([, m]) => m.prefix !== undefined)
      .map(([name]) => ({
        path: at('match', i, 'headers', name, 'prefix'),
        message: cannotMessage(kind, 'headerPrefix'),
      })),
  );
}

/**
 * ingress-nginx's canary takes one header (`canary-by-header`, with `-value` or `-pattern`) and one cookie
 * (`canary-by-cookie`, whose value must be `always`): one condition per entry, at most one entry of each.
 */
function nginxMatchIssues(match: unknown[], at: At): PolicyIssue[] {
  const issues: PolicyIssue[] = [];
  const seen = { header: -1, cookie: -1 };
  const other = 'use istio or gatewayAPI';
  match.forEach((entry, i) => {
    if (!isObj(entry)) return;
    const headers = headersOf(entry);
    const conditions = headers.length + (entry.cookie === undefined ? 0 : 1);
    if (conditions > 1) {
      issues.push({
        path: at('match', i),
        message: `nginx routing matches one condition per entry (canary-by-header or canary-by-cookie); ${other}`,
      });
      return;
    }
    const what = entry.cookie === undefined ? 'header' : 'cookie';
    if (seen[what] >= 0)
      issues.push({
        path: at('match', i),
        message: `nginx routing matches one ${what} per step (match[${seen[what]}] has it); ${other}`,
      });
    else seen[what] = i;
    const value = isObj(entry.cookie) ? entry.cookie.value : undefined;
    if (value !== undefined && value !== COOKIE_ALWAYS)
      issues.push({
        path: at('match', i, 'cookie', 'value'),
        message: `nginx routing matches a cookie only by the value "${COOKIE_ALWAYS}" (canary-by-cookie); ${other}`,
      });
  });
  return issues;
}

/** The header match kinds a router has (for docs/strategies.md's table). */
export function matchKindsOf(kind: RouterKind): string[] {
  if (!can(kind, 'headerMatch')) return [];
  return STRING_MATCHES.filter((m) => m !== 'prefix' || can(kind, 'headerPrefix'));
}
