/** The reference of a comparison check's fields (src/pipeline/policy/compare.ts), as policy-docs.ts's FieldDoc. */
export const COMPARISON_DOCS: Record<string, { description: string; example?: string }> = {
  'spec.checks[].compare': {
    description:
      'Instead of `query` and bounds: sample a canary and a primary query over the same window every tick and judge ' +
      'them with the Mann-Whitney U test (docs/checks.md, "Canary against primary").',
    example: 'compare: {canary: "…", primary: "…", window: 10m, step: 15s}',
  },
  'spec.checks[].compare.canary': {
    description: "The canary's query (one series), templated like `query`.",
    example: 'canary: histogram_quantile(0.9, sum by (le) (rate(latency_bucket{track="canary"}[1m])))',
  },
  'spec.checks[].compare.primary': {
    description: "Primary's query over the same window.",
    example: 'primary: histogram_quantile(0.9, sum by (le) (rate(latency_bucket{track="primary"}[1m])))',
  },
  'spec.checks[].compare.window': {
    description: 'The span sampled, ending at the tick.',
    example: 'window: 10m',
  },
  'spec.checks[].compare.step': {
    description: 'One sample per step on each side (window ÷ step + 1 samples, at most 1,000, at least `minSamples`).',
    example: 'step: 15s',
  },
  'spec.checks[].direction': {
    description:
      'Which change fails: `increase` (the canary higher), `decrease` (lower) or `either` (default); it sets the ' +
      "test's alternative (greater, less, two-sided).",
    example: 'direction: increase',
  },
  'spec.checks[].confidence': {
    description: 'A comparison fails when its p-value is below 1 − confidence (default 0.98) and the shift is larger.',
    example: 'confidence: 0.98',
  },
  'spec.checks[].tolerance': {
    description:
      "The Hodges–Lehmann shift must also exceed this share of primary's median (default 0.25) for the check to fail.",
    example: 'tolerance: 0.25',
  },
  'spec.checks[].minSamples': {
    description: 'Samples each side needs (default 20); fewer is `unavailable`, never a pass.',
    example: 'minSamples: 20',
  },
};
