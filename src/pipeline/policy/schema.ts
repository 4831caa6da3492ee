import { z } from 'zod';
import { boundedDuration, DURATION_BOUNDS } from './duration.js';
import { strict } from './strict.js';
import { conditionSchema } from './conditions.js';
import { RULE_ACTIONS, WEBHOOK_FORMATS } from './vocabulary.js';
import { windowsSchema } from './windows.js';
import { configTrackingSchema } from './config-tracking.js';
import { fastRevertSchema } from './fast-revert.js';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

const name = (what: string) =>
  z
    .string()
    .max(253)
    .regex(DNS_SUBDOMAIN, {
      error: (iss) => `expected a ${what} (lower-case letters, digits, '-' and '.'), got ${JSON.stringify(iss.input)}`,
    });
export const dnsLabel = z
  .string()
  .max(63)
  .regex(DNS_LABEL, {
    error: (iss) => `expected a DNS label (lower-case letters, digits and '-'), got ${JSON.stringify(iss.input)}`,
  });

export const secretRefSchema = strict({ name: name('Secret name'), key: z.string().min(1) });

const timeout = boundedDuration(DURATION_BOUNDS.timeout).default('5s');

const prometheusSchema = strict({
  address: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }),
  timeout,
  bearerTokenSecretRef: secretRefSchema.optional(),
  basicAuth: strict({ username: z.string().min(1), passwordSecretRef: secretRefSchema }).optional(),
  headers: z.array(strict({ name: z.string().min(1), valueSecretRef: secretRefSchema })).optional(),
  caSecretRef: secretRefSchema.optional(),
});

export const DATADOG_SITES = [
  'datadoghq.com',
  'datadoghq.eu',
  'us3.datadoghq.com',
  'us5.datadoghq.com',
  'ap1.datadoghq.com',
  'ddog-gov.com',
] as const;

const datadogSchema = strict({
  site: z.enum(DATADOG_SITES).default('datadoghq.com'),
  /** Overrides the API address derived from `site` (a proxy or private link). */
  address: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).optional(),
  apiKeySecretRef: secretRefSchema,
  appKeySecretRef: secretRefSchema,
  timeout,
});

const newRelicSchema = strict({
  accountId: z.number().int().positive(),
  region: z.enum(['US', 'EU']).default('US'),
  /** Overrides the NerdGraph address derived from `region`. */
  address: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).optional(),
  apiKeySecretRef: secretRefSchema,
  timeout,
});

export const PROVIDER_KINDS = ['prometheus', 'datadog', 'newRelic'] as const;
export type ProviderKind = (typeof PROVIDER_KINDS)[number];

const providerSchema = strict({
  prometheus: prometheusSchema.optional(),
  datadog: datadogSchema.optional(),
  newRelic: newRelicSchema.optional(),
}).superRefine((provider, ctx) => exactlyOne(provider, PROVIDER_KINDS, 'provider kind', ctx));

const routerName = strict({ name: name('resource name') });
export const ROUTER_KINDS = ['replicas', 'istio', 'gatewayAPI', 'smi', 'nginx'] as const;
export type RouterKind = (typeof ROUTER_KINDS)[number];

const trafficRoutingSchema = strict({
  replicas: strict({}).optional(),
  istio: strict({
    virtualService: strict({ name: name('VirtualService name'), routes: z.array(z.string().min(1)).optional() }),
    service: routerName.optional(),
    destinationRule: strict({
      name: name('DestinationRule name'),
      canarySubsetName: z.string().min(1),
      stableSubsetName: z.string().min(1),
    }).optional(),
  }).optional(),
  gatewayAPI: strict({ httpRoute: routerName, service: routerName.optional() }).optional(),
  smi: strict({ trafficSplit: routerName, service: routerName.optional() }).optional(),
  nginx: strict({ ingress: routerName, service: routerName.optional() }).optional(),
}).superRefine((routing, ctx) => exactlyOne(routing, ROUTER_KINDS, 'traffic router', ctx));

const stepSchema = strict({
  weight: z
    .number()
    .gt(0, { error: (iss) => `a weight must be above 0, got ${String(iss.input)}` })
    .lte(100, { error: (iss) => `a weight must be at most 100, got ${String(iss.input)}` })
    .optional(),
  soak: boundedDuration(DURATION_BOUNDS.soak).optional(),
  pause: strict({ duration: boundedDuration(DURATION_BOUNDS.pause).optional() }).optional(),
}).superRefine((step, ctx) => {
  if ((step.weight === undefined) === (step.pause === undefined)) {
    ctx.addIssue({ code: 'custom', message: 'a step has exactly one of "weight" or "pause"' });
  }
  if (step.pause !== undefined && step.soak !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['soak'], message: 'a pause step has no soak; use pause.duration' });
  }
});

const checkSchema = strict({
  name: dnsLabel,
  provider: z.string().min(1),
  query: z.string().min(1),
  value: z.string().min(1).optional(),
  min: z.number().optional(),
  max: z.number().optional(),
});

const ruleSchema = strict({
  name: dnsLabel,
  when: conditionSchema,
  then: z.enum(RULE_ACTIONS),
  /**
   * The reason's message; `{rollout.step}`, `{checks.error-rate.value}`, `{derived.burn}` are filled with the
   * snapshot's values.
   */
  message: z.string().min(1).max(500).optional(),
});

const podHealthSchema = strict({
  maxRestarts: z.number().int().min(0).default(3),
  progressDeadline: boundedDuration(DURATION_BOUNDS.progressDeadline).default('10m'),
  maxWarningEvents: z.number().int().min(0).nullable().default(null),
});

const webhookSchema = strict({
  url: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }),
  format: z.enum(WEBHOOK_FORMATS).default('json'),
  secretRef: secretRefSchema,
  tokenSecretRef: secretRefSchema.optional(),
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
  webhook: webhookSchema.optional(),
});

export const specSchema = strict({
  targetRef: strict({
    kind: z.literal('Deployment'),
    name: name('Deployment name'),
    apiVersion: z.literal('apps/v1').optional(),
  }),
  interval: boundedDuration(DURATION_BOUNDS.interval).default('30s'),
  steps: z.array(stepSchema).min(1, { error: 'at least one step is needed' }),
  trafficRouting: trafficRoutingSchema.default({ replicas: {} }),
  providers: z.record(dnsLabel, providerSchema).default({}),
  checks: z.array(checkSchema).default([]),
  derived: z
    .record(
      z.string().regex(IDENTIFIER, { error: 'a derived fact name is an identifier (letters, digits, _)' }),
      z.string().min(1),
    )
    .default({}),
  rules: z.array(ruleSchema).default([]),
  onMetricUnavailable: z.enum(['rollback', 'pause']).default('rollback'),
  mode: z.enum(['active', 'shadow']).default('active'),
  podHealth: podHealthSchema.default({ maxRestarts: 3, progressDeadline: '10m', maxWarningEvents: null }),
  audit: auditSchema.optional(),
  windows: windowsSchema,
  configTracking: configTrackingSchema,
  fastRevert: fastRevertSchema,
});

export const metadataSchema = z.looseObject({
  name: name('policy name'),
  namespace: dnsLabel.default('default'),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});

export const API_VERSION = 'kubestead.io/v1alpha1';
export const KIND = 'RolloutPolicy';

export const rolloutPolicySchema = strict({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal(KIND),
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
export type SecretRef = z.output<typeof secretRefSchema>;
export type TrafficRoutingSpec = PolicySpec['trafficRouting'];
export type CustomRuleSpec = PolicySpec['rules'][number];

function exactlyOne(value: object, kinds: readonly string[], what: string, ctx: z.RefinementCtx): void {
  const present = kinds.filter((k) => (value as Record<string, unknown>)[k] !== undefined);
  if (present.length !== 1) {
    const found = present.length ? `got ${present.join(' and ')}` : 'got none';
    ctx.addIssue({ code: 'custom', message: `expected exactly one ${what} of ${kinds.join(', ')}; ${found}` });
  }
}
