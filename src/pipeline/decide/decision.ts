import type { Action } from '../policy/vocabulary.js';

/** Re-exported from the shared vocabulary (src/pipeline/policy/vocabulary.ts), where they now live. */
export { ACTIONS, type Action } from '../policy/vocabulary.js';

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
