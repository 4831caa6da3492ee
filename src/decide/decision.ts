export const ACTIONS = ['hold', 'advance', 'promote', 'pause', 'rollback'] as const;
export type Action = (typeof ACTIONS)[number];

export interface Reason {
  rule: string;
  check?: string;
  message: string;
}

/** DESIGN.md §5. */
export interface Decision {
  action: Action;
  reasons: Reason[];
  step: number;
  nextStep: number | null;
}
