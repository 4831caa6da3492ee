import { describeShare, shareOf } from '../../pipeline/policy/weights.js';

/**
 * What one destination of a route is to Kubestead: the primary or canary track, the user's Service
 * unsplit (it reaches primary and canary pods alike), or something else entirely.
 */
export type Role = 'primary' | 'canary' | 'unsplit' | 'other';

/** Whether a route's destinations are all the target's ('all'), none ('none'), or a mix ('some'). */
export function coverage(roles: Role[]): 'all' | 'none' | 'some' {
  if (roles.length === 0 || roles.every((r) => r === 'other')) return 'none';
  return roles.every((r) => r !== 'other') ? 'all' : 'some';
}

/** The destination a split is copied from: the primary one, else the user's, else the first. */
export function templateOf<T>(dests: T[], roleOf: (d: T) => Role): T | undefined {
  return dests.find((d) => roleOf(d) === 'primary') ?? dests.find((d) => roleOf(d) === 'unsplit') ?? dests[0];
}

export interface RouteShare {
  label: string;
  canary: number;
  total: number;
  /** Weight sent to the user's Service unsplit. */
  unsplit: number;
}

export function shareOfRoute<T>(
  label: string,
  dests: T[],
  roleOf: (d: T) => Role,
  weightOf: (d: T) => number,
): RouteShare {
  const sum = (role: Role) => dests.filter((d) => roleOf(d) === role).reduce((n, d) => n + weightOf(d), 0);
  return { label, canary: sum('canary'), total: dests.reduce((n, d) => n + weightOf(d), 0), unsplit: sum('unsplit') };
}

/**
 * The canary's share over the routes (the largest, so that 0 means no route sends it anything) and each route's split.
 */
export function describeShares(
  shares: RouteShare[],
  where: string,
  service: string,
): { weight: number; detail: string } {
  const weight = Math.max(0, ...shares.map((s) => shareOf(s.canary, s.total)));
  const parts = shares.map(
    (s) =>
      `${s.label} canary ` +
      `${describeShare(s.canary, s.total)}${s.unsplit > 0 ? `, ${s.unsplit}/${s.total} to ${service} unsplit` : ''}`,
  );
  return { weight, detail: `${where}: ${parts.join('; ')}` };
}
