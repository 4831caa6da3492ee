/** The snapshot's `revert`: whether the canary's revision is one promoted before, and how many promotions ago. */
export interface RevertFacts {
  known: boolean;
  /** The revision reverted to (null when not known). */
  revision: string | null;
  /** 1: the promotion before the current stable one, 2: the one before that… (null when not known). */
  promotionsAgo: number | null;
}

export const NO_REVERT: RevertFacts = Object.freeze({ known: false, revision: null, promotionsAgo: null });

/**
 * Whether `canary` is one of the `depth` revisions promoted before the stable one. `promoted` is
 * status.promotedRevisions, newest (the stable revision) first. Pure.
 */
export function revertFacts(depth: number, promoted: readonly string[], canary: string | null): RevertFacts {
  const index = canary === null ? -1 : promoted.indexOf(canary);
  if (index < 1 || index > depth) return NO_REVERT;
  return { known: true, revision: canary, promotionsAgo: index };
}

/** status.promotedRevisions after `revision` became stable: it first, then those before it, `depth` kept. */
export function rememberPromoted(depth: number, promoted: readonly string[], revision: string): string[] | undefined {
  if (depth <= 0) return undefined;
  return [revision, ...promoted.filter((r) => r !== revision)].slice(0, depth + 1);
}
