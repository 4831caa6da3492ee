import { z } from 'zod';
import { boundedDuration, DURATION_BOUNDS } from './duration.js';
import { strict } from './strict.js';
import { conditionSchema } from './conditions.js';
import { RULE_ACTIONS, WEBHOOK_FORMATS } from './vocabulary.js';
import { dnsLabel, doc, httpUrl, name, secretRef, type secretRefSchema } from './schema-parts.js';
import { providerSchema } from './schema-providers.js';
import { trafficRoutingSchema } from './schema-routing.js';
import { notificationsSchema } from './schema-notifications.js';
import { checkSchema } from './schema-checks.js';
import { webhooksSchema } from './webhooks.js';
import { windowsSchema } from './windows.js';
import { configTrackingSchema } from './config-tracking.js';
import { fastRevertSchema } from './fast-revert.js';
import { canaryScaleSchema } from './canary-scale.js';
import { blueGreenSchema, matchSchema, mirrorSchema, STRATEGIES } from './strategies.js';

export { dnsLabel, secretRefSchema } from './schema-parts.js';
export { DATADOG_SITES, PROVIDER_KINDS, type ProviderKind } from './schema-providers.js';
export { ROUTER_KINDS, type RouterKind } from './schema-routing.js';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

const stepSchema = strict({
  weight: z
    .number()
    .gt(0, { error: (iss) => `a weight must be above 0, got ${String(iss.input)}` })
    .lte(100, { error: (iss) => `a weight must be at most 100, got ${String(iss.input)}` })
    .meta(
      doc(
        'Percent of traffic (or of pods, with replica routing) the canary gets at this step; decimals allowed (0.5 ' +
          '= half a percent).',
        '- weight: 5',
      ),
    )
    .optional(),
  soak: boundedDuration(DURATION_BOUNDS.soak)
    .meta(
      doc(
        'How long the step must stay healthy before the next step (default 5m). Paused time does not count.',
        '- {weight: 25, soak: 10m}',
      ),
    )
    .optional(),
  pause: strict({
    duration: boundedDuration(DURATION_BOUNDS.pause)
      .meta(doc('A timed pause: the rollout continues by itself after this long.', '- pause: {duration: 15m}'))
      .optional(),
  })
    .meta(
      doc(
        'A gate: `pause: {}` waits for `kubestead resume` or `promote`; with a duration it waits that long.',
        '- pause: {}',
      ),
    )
    .optional(),
  match: matchSchema
    .meta(
      doc(
        'An A/B step: only requests matching an entry reach the canary (weight 0 for the rest); soaks for `soak`. ' +
          'Needs istio, gatewayAPI or nginx.',
        '- {match: [{headers: {x-canary: {exact: insider}}}], soak: 10m}',
      ),
    )
    .optional(),
  mirror: mirrorSchema
    .meta(
      doc(
        "A mirror step: this percent of primary's requests is copied to the canary, whose answers are dropped; no " +
          'user is served by the canary. Needs istio, gatewayAPI or nginx (nginx: 100 only).',
        '- {mirror: 100, soak: 5m}',
      ),
    )
    .optional(),
})
  .superRefine((step, ctx) => {
    const kinds = STEP_KINDS.filter((kind) => step[kind] !== undefined);
    if (kinds.length !== 1) {
      ctx.addIssue({ code: 'custom', message: 'a step has exactly one of "weight", "pause", "match" or "mirror"' });
    }
    if (step.pause !== undefined && step.soak !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['soak'], message: 'a pause step has no soak; use pause.duration' });
    }
  })
  .meta(doc('One step: exactly one of `weight`, `pause`, `match` or `mirror`.'));

/** The fields that make a step what it is: exactly one per step. */
export const STEP_KINDS = ['weight', 'pause', 'match', 'mirror'] as const;

const ruleSchema = strict({
  name: dnsLabel.meta(doc("The rule's name in decision reasons.", 'name: low-traffic-hold')),
  when: conditionSchema.meta(
    doc(
      'A json-rules-engine condition over the facts (`rollout`, `checks`, `derived`, `kube`).',
      'when: {all: [{fact: derived, path: "$.requests", operator: lessThan, value: 50}]}',
    ),
  ),
  then: z.enum(RULE_ACTIONS).meta(doc('The action when the condition holds.', 'then: hold')),
  message: z
    .string()
    .min(1)
    .max(500)
    .meta(
      doc(
        "The reason's message in decisions, status and Events (default: the rule's name and action); " +
          "`{checks.error-rate.value}`, `{derived.burn}` and any snapshot path are filled with the snapshot's " +
          'values, and `{step}` with the step as people read it (`2/3`).',
        'message: "only {derived.requests} requests at step {step}: holding"',
      ),
    )
    .optional(),
}).meta(
  doc(
    'One rule: a json-rules-engine condition and what to do when it holds.',
    '- {name: low-traffic-hold, when: {all: [{fact: derived, path: "$.requests", operator: lessThan, value: 50}]}, ' +
      'then: hold}',
  ),
);

const podHealthSchema = strict({
  maxRestarts: z
    .number()
    .int()
    .min(0)
    .default(3)
    .meta(doc('More container restarts of canary pods than this rolls back.', 'maxRestarts: 3')),
  progressDeadline: boundedDuration(DURATION_BOUNDS.progressDeadline)
    .default('10m')
    .meta(doc('A canary not fully ready this long into a step rolls back.', 'progressDeadline: 10m')),
  maxWarningEvents: z
    .number()
    .int()
    .min(0)
    .nullable()
    .default(null)
    .meta(
      doc('More Warning events on canary pods than this rolls back; null turns the limit off.', 'maxWarningEvents: 5'),
    ),
});

const webhookSchema = strict({
  url: httpUrl().meta(doc('The endpoint, http(s).', 'url: "https://siem.example/kubestead"')),
  format: z
    .enum(WEBHOOK_FORMATS)
    .default('json')
    .meta(
      doc(
        'The body format: `json` (`{"source":"kubestead","entries":[…]}`), `splunk` (HEC events, one per entry) or ' +
          '`elasticsearch` (`_bulk` NDJSON, the entry hash as `_id`).',
        'format: splunk',
      ),
    ),
  secretRef: secretRef(
    'the Standard Webhooks signing secret (`whsec_…`; two separated by a space while rotating)',
    '{name: siem, key: hmac}',
  ),
  tokenSecretRef: secretRef(
    'the Splunk HEC token (required for `splunk`) or the Elasticsearch API key, sent as `Authorization: Splunk …` ' +
      '/ `ApiKey …`',
    '{name: siem, key: hec-token}',
  ).optional(),
}).superRefine((webhook, ctx) => {
  if (webhook.format === 'splunk' && !webhook.tokenSecretRef) {
    ctx.addIssue({
      code: 'custom',
      path: ['tokenSecretRef'],
      message: 'format splunk needs tokenSecretRef: the Secret holding the HEC token',
    });
  }
});

const auditSchema = strict({
  webhook: webhookSchema
    .meta(
      doc(
        'A SIEM endpoint that receives every audit entry, signed, at least once.',
        'webhook: {url: "https://siem.example/kubestead", secretRef: {name: siem, key: hmac}}',
      ),
    )
    .optional(),
});

const targetRefSchema = strict({
  kind: z.literal('Deployment').meta(doc('Only Deployments are released.', 'kind: Deployment')),
  name: name('Deployment name').meta(doc('The Deployment name, in the policy namespace.', 'name: checkout')),
  apiVersion: z
    .literal('apps/v1')
    .meta(doc('May be written for clarity; only `apps/v1` is accepted.', 'apiVersion: apps/v1'))
    .optional(),
});

export const specSchema = strict({
  targetRef: targetRefSchema.meta(
    doc(
      'The Deployment whose template changes start a canary. Kubestead never edits its template; it creates ' +
        '`<name>-primary` beside it.',
      'targetRef: {kind: Deployment, name: checkout}',
    ),
  ),
  interval: boundedDuration(DURATION_BOUNDS.interval)
    .default('30s')
    .meta(doc('How often the checks are queried and a decision is taken while a canary runs.', 'interval: 30s')),
  /** The canary's steps; none with `strategy: blueGreen` (stepIssues in semantic.ts says so). */
  steps: z
    .array(stepSchema)
    .default([])
    .meta(
      doc(
        'The canary steps, in order (none with `strategy: blueGreen`). Weight steps must ascend; after the last step ' +
          'passes the canary is promoted.',
        'steps: [{weight: 5}, {weight: 25, soak: 10m}, {pause: {}}, {weight: 50}]',
      ),
    ),
  strategy: z
    .enum(STRATEGIES)
    .meta(
      doc(
        '`canary` (the default): the `steps`. `blueGreen`: the new version at full count is judged through a preview ' +
          'Service, then all traffic switches to it at once (`blueGreen`).',
        'strategy: blueGreen',
      ),
    )
    .optional(),
  blueGreen: blueGreenSchema
    .meta(
      doc(
        'The blue-green settings; needs `strategy: blueGreen`, and excludes `steps`.',
        'blueGreen: {previewService: checkout-preview, soak: 5m}',
      ),
    )
    .optional(),
  trafficRouting: trafficRoutingSchema
    .default({ replicas: {} })
    .meta(doc('How the canary gets its share: exactly one router.', 'trafficRouting: {replicas: {}}')),
  providers: z
    .record(dnsLabel, providerSchema)
    .default({})
    .meta(
      doc(
        'Metric backends by name; checks refer to them by that name.',
        'providers: {prom: {prometheus: {address: "http://prometheus.monitoring:9090"}}}',
      ),
    ),
  checks: z
    .array(checkSchema)
    .default([])
    .meta(
      doc(
        'The measurements that decide. Every check is queried each interval; one out of bounds rolls back at once ' +
          '(unless its `failureLimit` tolerates it).',
      ),
    ),
  derived: z
    .record(
      z.string().regex(IDENTIFIER, { error: 'a derived fact name is an identifier (letters, digits, _)' }),
      z
        .string()
        .min(1)
        .meta(
          doc(
            'A jsonata expression; its name is an identifier.',
            'errorBudgetBurn: "checks.`error-rate`.value / 0.001"',
          ),
        ),
    )
    .default({})
    .meta(
      doc(
        'Extra facts computed each tick by jsonata over the snapshot, for custom rules (`facts.derived.<name>`).',
        'derived: {errorBudgetBurn: "checks.`error-rate`.value / 0.001"}',
      ),
    ),
  rules: z
    .array(ruleSchema)
    .default([])
    .meta(doc('Custom rules, checked in order after the built-in breach, pod-health and unavailable-metric rules.')),
  onMetricUnavailable: z
    .enum(['rollback', 'pause'])
    .default('rollback')
    .meta(
      doc(
        'What a check that cannot be measured does: `rollback`, or `pause` that lifts by itself when the metric ' +
          'comes back (the soak clock stops meanwhile).',
        'onMetricUnavailable: pause',
      ),
    ),
  mode: z
    .enum(['active', 'shadow'])
    .default('active')
    .meta(
      doc(
        '`shadow` gathers facts, decides and records every tick but changes nothing: a dry run next to a release ' +
          'process you already have.',
        'mode: shadow',
      ),
    ),
  podHealth: podHealthSchema
    .default({ maxRestarts: 3, progressDeadline: '10m', maxWarningEvents: null })
    .meta(doc('Canary pod health, judged besides the metric checks.')),
  audit: auditSchema.meta(doc('Where decisions go besides the in-cluster audit log.')).optional(),
  notifications: notificationsSchema,
  webhooks: webhooksSchema,
  windows: windowsSchema,
  configTracking: configTrackingSchema,
  fastRevert: fastRevertSchema,
  canaryScale: canaryScaleSchema,
}).meta(doc('What to release and how to judge it.'));

export const metadataSchema = z
  .looseObject({
    name: name('policy name').meta(
      doc('The policy name, unique in its namespace; audit segments and reports are named after it.', 'name: checkout'),
    ),
    namespace: dnsLabel
      .default('default')
      .meta(
        doc(
          'The namespace of the policy and of its target Deployment, Secrets and routers (a file without one ' +
            'means `default`).',
          'namespace: shop',
        ),
      ),
    labels: z
      .record(z.string(), z.string().meta(doc('One label value.', 'team: payments')))
      .meta(doc('Labels, as on any object.'))
      .optional(),
    annotations: z
      .record(z.string(), z.string().meta(doc('One annotation value.', 'owner: "team-payments@example.com"')))
      .meta(
        doc(
          'Annotations. `kubestead.io/override` is how the promote / abort / pause / resume commands talk to the ' +
            'controller; it is consumed and removed on the next tick.',
        ),
      )
      .optional(),
  })
  .meta(doc('Standard Kubernetes object metadata; other fields than those listed are kept as they are.'));

export const API_VERSION = 'kubestead.io/v1alpha1';
export const KIND = 'RolloutPolicy';

export const rolloutPolicySchema = strict({
  apiVersion: z.literal(API_VERSION).meta(doc('The API version of the resource.', 'apiVersion: kubestead.io/v1alpha1')),
  kind: z.literal(KIND).meta(doc('The resource kind.', 'kind: RolloutPolicy')),
  metadata: metadataSchema,
  spec: specSchema,
  status: z.unknown().optional(),
});

export type RolloutPolicy = z.output<typeof rolloutPolicySchema>;
export type PolicySpec = z.output<typeof specSchema>;
export type PolicyStep = PolicySpec['steps'][number];
export type CheckSpec = PolicySpec['checks'][number];
export type ProviderSpec = PolicySpec['providers'][string];
export type PrometheusSpec = NonNullable<ProviderSpec['prometheus']>;
export type DatadogSpec = NonNullable<ProviderSpec['datadog']>;
export type NewRelicSpec = NonNullable<ProviderSpec['newRelic']>;
export type WebSpec = NonNullable<ProviderSpec['web']>;
export type CloudWatchSpec = NonNullable<ProviderSpec['cloudWatch']>;
export type SecretRef = z.output<typeof secretRefSchema>;
export type TrafficRoutingSpec = PolicySpec['trafficRouting'];
export type CustomRuleSpec = PolicySpec['rules'][number];
export type NotificationSpec = NonNullable<PolicySpec['notifications']>[number];
