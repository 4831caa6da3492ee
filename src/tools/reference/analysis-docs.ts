/**
 * Examples of the fields that widen a policy's analysis (src/pipeline/policy/analysis.ts). Their descriptions are in
 * the schema itself (so the CRD, and `kubectl explain`, carry them); an entry here only adds what the reference
 * shows beside it.
 */
export const ANALYSIS_DOCS: Record<string, { description?: string; example: string }> = {
  'spec.checks[].failureLimit': { example: 'failureLimit: 2' },
  'spec.checks[].inconclusive': { example: 'inconclusive: {max: 0.02}' },
  'spec.checks[].inconclusive.max': { example: 'max: 0.02' },
  'spec.checks[].inconclusive.min': { example: 'min: 0.97' },
};
