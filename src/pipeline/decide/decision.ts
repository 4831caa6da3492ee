import type { Action } from '../policy/vocabulary.js';

export interface Reason {
  rule: string;
  check?: string;
  message: string;
}

/** docs/decisions.md, "Precedence". */
export interface Decision {
  action: Action;
  reasons: Reason[];
  step: number;
  nextStep: number | null;
}
