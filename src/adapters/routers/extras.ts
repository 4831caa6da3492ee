import type { MatchEntry, StringMatch } from '../../pipeline/policy/strategies.js';
import { matchKindOf } from '../../pipeline/policy/strategies.js';

/**
 * What a weighted router adds to the user's route objects beside the two weights (docs/strategies.md): an A/B
 * step's match routes, a mirror step's mirror, and session affinity's cookie route and Set-Cookie. Each backend
 * writes them in the same write as the weights and removes every one of them once they are not asked for.
 */
export interface Extras {
  match?: MatchEntry[];
  mirror?: number;
  affinity?: Affinity;
}

/** Session affinity as written: the canary's answers set `cookieName=value`, and a request carrying it goes there. */
export interface Affinity {
  cookieName: string;
  /** The canary ReplicaSet's pod-template-hash: a cookie of an earlier rollout's canary matches no later one. */
  value: string;
  maxAgeSeconds: number;
}

/** The prefix of the names of the routes and rules Kubestead adds (and so removes). */
export const OWN = 'kubestead-';
export const ownName = (what: 'ab' | 'affinity', label: string): string => `${OWN}${what}-${label}`;

/** The Set-Cookie value the canary's answers carry. */
export function setCookie(affinity: Affinity): string {
  return `${affinity.cookieName}=${affinity.value}; Max-Age=${affinity.maxAgeSeconds}; Path=/`;
}

/** The header conditions of one match entry: its headers, and its cookie as a regex on the Cookie header. */
export function headerConditions(
  entry: MatchEntry,
  cookie: (name: string, value: string) => StringMatch,
): Array<{ name: string; match: StringMatch }> {
  const headers = Object.entries(entry.headers ?? {}).map(([name, match]) => ({ name, match }));
  return entry.cookie
    ? [...headers, { name: 'cookie', match: cookie(entry.cookie.name, entry.cookie.value) }]
    : headers;
}

export { matchKindOf };

/** The index of the first candidate `carries` holds for, or -1. */
export function carried(candidates: readonly Extras[], carries: (extras: Extras) => boolean): number {
  return candidates.findIndex(carries);
}
