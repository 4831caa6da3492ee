/**
 * docs/decisions.md, "Precedence" as code: the levels of precedence, highest first. The first level that applies
 * decides the action, and every reason that applied is listed in this order. Each level's rule
 * templates are in its file under rules/ (rules/README.md); a file there that this list does not
 * name is an error, so the order can only be changed here.
 */
export const PRECEDENCE = [
  { name: 'override-abort', file: 'override-abort.json' },
  { name: 'check-breach', file: 'check-breach.json' },
  /** A webhook's answer that rolls back: a failed preRollout or rollout webhook, a rollback webhook's 2xx. */
  { name: 'webhook', file: 'webhook.json' },
  { name: 'pod-health', file: 'pod-health.json' },
  /** Also the level of `derived-unavailable`: a derived fact whose evaluation exceeded its budget. */
  { name: 'metric-unavailable', file: 'metric-unavailable.json' },
  { name: 'custom-rules', file: 'custom-rules.json' },
  /** A value in a check's inconclusive band: a pause for a person (it sets manualPause; transitions.ts). */
  { name: 'inconclusive', file: 'inconclusive.json' },
  { name: 'pause', file: 'pause.json' },
  /** A failing measurement within the check's failureLimit: hold (never advance on it). */
  { name: 'check-failing', file: 'check-failing.json' },
  /**
   * A confirm gate that has not answered 2xx: the stage holds (below every rollback, so a breach while a gate waits
   * still rolls back; above promote, so a gate holds a promote override too).
   */
  { name: 'gate', file: 'gate.json' },
  /** Blue-green: `promote` during the preview is the switch (an advance to the switched stage), not the end. */
  { name: 'promote-switch', file: 'promote-switch.json' },
  { name: 'override-promote', file: 'override-promote.json' },
  /**
   * Inside a deny window, or outside every allow window: hold. Below rollback and pause (a breach during a freeze
   * still rolls back) and a person's promote; above everything that moves the rollout forward by itself.
   */
  { name: 'window', file: 'window.json' },
  /** The canary's revision was promoted before (spec.fastRevert): promote at once, unless frozen or anything above. */
  { name: 'fast-revert', file: 'fast-revert.json' },
  { name: 'soak', file: 'soak.json' },
  /**
   * The soak is over (or a pause step resumed) but not every canary pod is ready: never more weight to an unready
   * canary.
   */
  { name: 'canary-not-ready', file: 'canary-not-ready.json' },
  { name: 'advance', file: 'advance.json' },
] as const;

export type LevelName = (typeof PRECEDENCE)[number]['name'];
export const LEVEL_NAMES = PRECEDENCE.map((level) => level.name) as unknown as readonly [LevelName, ...LevelName[]];

/** A level's number: 1 for the highest. */
export function levelOf(name: LevelName): number {
  return LEVEL_NAMES.indexOf(name) + 1;
}

/** The level named by a number. */
export function levelName(level: number): LevelName | undefined {
  return LEVEL_NAMES[level - 1];
}

/**
 * Rules decide gives outside the engine's run (they have no template): a derived fact over its budget, and "no rule
 * applied".
 */
export const DERIVED_UNAVAILABLE = 'derived-unavailable';
export const NO_DECISION = 'no-decision';
