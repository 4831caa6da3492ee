import { z } from 'zod';
import { comparisonFields } from './compare.js';
import { CHECK_ANALYSIS_FIELDS } from './analysis.js';
import { dnsLabel, doc } from './schema-parts.js';
import { strict } from './strict.js';

/** One check of `spec.checks`: a query and its bounds, or a comparison; with a failure limit and a band. */
const BOUND = 'A value equal to a bound passes.';

export const checkSchema = strict({
  name: dnsLabel.meta(
    doc(
      "The check's name in facts, decisions, status and messages (`error-rate = 0.034 is above max 0.01`).",
      'name: error-rate',
    ),
  ),
  provider: z.string().min(1).meta(doc('A key of `spec.providers`.', 'provider: prom')),
  query: z
    .string()
    .min(1)
    .meta(
      doc(
        "The query in the provider's language. `{{ target.name }}`, `{{ target.namespace }}`, `{{ policy.name }}` " +
          'and `{{ rollout.canaryRevision }}` are substituted, escaped for where they land.',
        'query: sum(rate(http_requests_total{app="{{ target.name }}",track="canary",code=~"5.."}[2m]))',
      ),
    )
    .optional(),
  value: z
    .string()
    .min(1)
    .meta(
      doc(
        "A jsonata expression that picks the number out of the provider's answer; by default the single number of " +
          'the answer (anything else is `unavailable`).',
        'value: "results[0].score"',
      ),
    )
    .optional(),
  min: z
    .number()
    .meta(doc(`The check fails when the value is below this. ${BOUND}`, 'min: 0.9'))
    .optional(),
  max: z
    .number()
    .meta(doc(`The check fails when the value is above this. ${BOUND}`, 'max: 0.01'))
    .optional(),
  ...comparisonFields,
  ...CHECK_ANALYSIS_FIELDS,
}).meta(
  doc(
    'One check: a query, how to read a number from the answer, and its bounds (at least one of `min`, `max`); or a ' +
      'comparison of canary against primary (`compare`, docs/checks.md).',
    '- {name: error-rate, provider: prom, query: "…", max: 0.01}',
  ),
);
