import type { V1Ingress, V1IngressBackend } from '@kubernetes/client-node';
import { escapeRegex, matchKindOf, type MatchEntry } from '../../pipeline/policy/strategies.js';
import type { RouterProblem } from './router.js';
import type { ServiceNames } from './services.js';
import type { Extras } from './extras.js';

/**
 * What Kubestead adds to ingress-nginx objects beside the weights (docs/strategies.md): an A/B step's match as the
 * canary Ingress's `canary-by-header` (with `-value` or `-pattern`) and `canary-by-cookie`, and a mirror step as the
 * user's Ingress's `mirror-target` (ingress-nginx ignores every other annotation on a canary Ingress). ingress-nginx
 * sends a request to the canary by header first, then by cookie, then by weight: at weight 0 only the matching ones.
 */

const PREFIX = 'nginx.ingress.kubernetes.io/';
export const BY_HEADER = `${PREFIX}canary-by-header`;
export const BY_HEADER_VALUE = `${PREFIX}canary-by-header-value`;
export const BY_HEADER_PATTERN = `${PREFIX}canary-by-header-pattern`;
export const BY_COOKIE = `${PREFIX}canary-by-cookie`;
export const MIRROR_TARGET = `${PREFIX}mirror-target`;
const MATCH_KEYS = [BY_HEADER, BY_HEADER_VALUE, BY_HEADER_PATTERN, BY_COOKIE];

/**
 * The canary Ingress's annotations for an A/B match: one header entry and one cookie entry at most (validation,
 * routing.ts); a prefix match is the pattern `^prefix`.
 */
export function matchAnnotations(match: MatchEntry[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of match ?? []) {
    if (entry.cookie) out[BY_COOKIE] = entry.cookie.name;
    const [header] = Object.entries(entry.headers ?? {});
    if (!header) continue;
    const [name, condition] = header;
    const { kind, value } = matchKindOf(condition);
    out[BY_HEADER] = name;
    if (kind === 'exact') out[BY_HEADER_VALUE] = value;
    else out[BY_HEADER_PATTERN] = kind === 'regex' ? value : `^${escapeRegex(value)}`;
  }
  return out;
}

/** Annotations without the A/B ones (what the canary Ingress copies of the user's, and what a new step replaces). */
export function withoutMatch(annotations: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(annotations).filter(([key]) => !MATCH_KEYS.includes(key)));
}

/** Where Kubestead's mirror sends: the canary Service, on the port the user's Ingress sends to. */
export function mirrorUrl(names: ServiceNames, namespace: string, port: number): string {
  return `http://${names.canary}.${namespace}.svc.cluster.local:${port}$request_uri`;
}

/** Whether a mirror-target is Kubestead's (it names the canary Service). */
export const isOwnMirror = (value: string | undefined, names: ServiceNames, namespace: string): boolean =>
  value?.startsWith(`http://${names.canary}.${namespace}.svc.cluster.local:`) ?? false;

/** The user's Ingress annotations with `mirror` (Kubestead's mirror-target, or none). */
export function withMirror(
  annotations: Record<string, string> | undefined,
  mirror: string | undefined,
  own: (value: string | undefined) => boolean,
): Record<string, string> | undefined {
  const kept = Object.fromEntries(Object.entries(annotations ?? {}).filter(([k, v]) => k !== MIRROR_TARGET || !own(v)));
  const next = mirror === undefined ? kept : { ...kept, [MIRROR_TARGET]: mirror };
  return Object.keys(next).length === 0 && annotations === undefined ? undefined : next;
}

/** The extras the live objects hold, to compare with what a write would make (drift). */
export function nginxExtrasOf(canary: V1Ingress | undefined, user: V1Ingress, own: (v?: string) => boolean): unknown {
  const annotations = canary?.metadata?.annotations ?? {};
  const match = Object.fromEntries(Object.entries(annotations).filter(([key]) => MATCH_KEYS.includes(key)));
  const mirror = user.metadata?.annotations?.[MIRROR_TARGET];
  return { match, mirror: own(mirror) ? mirror : undefined };
}

/** The extras a write of `extras` leaves, in the form nginxExtrasOf reads them. */
export function expectedExtras(extras: Extras, mirror: string | undefined): unknown {
  return { match: matchAnnotations(extras.match), mirror: extras.mirror === undefined ? undefined : mirror };
}

/**
 * A mirror-target mirrors every path of the Ingress: a mirror step needs an Ingress whose backends all reach the
 * target, and no mirror-target of the user's.
 */
export function mirrorProblem(
  user: V1Ingress,
  where: string,
  isTarget: (backend: V1IngressBackend | undefined) => boolean,
  own: (value: string | undefined) => boolean,
): RouterProblem | null {
  const mine = user.metadata?.annotations?.[MIRROR_TARGET];
  if (mine !== undefined && !own(mine))
    return {
      reason: 'RouteConflict',
      message: `${where} has a mirror-target of its own; the policy's mirror step would replace it`,
    };
  const paths = (user.spec?.rules ?? []).flatMap((r) => r.http?.paths ?? []);
  const other = paths.find((p) => !isTarget(p.backend));
  if (!other) return null;
  return {
    reason: 'RouteConflict',
    message:
      `${where} path ${other.path ?? '/'} goes to another Service; ingress-nginx's mirror-target mirrors every path ` +
      `of an Ingress: give the target's paths an Ingress of their own for a mirror step`,
  };
}
