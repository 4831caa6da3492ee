import { z } from 'zod';
import { boundedDuration, DURATION_BOUNDS } from './duration.js';
import { strict } from './strict.js';
import { doc, exactlyOne, httpUrl, secretRef } from './schema-parts.js';
import { webSchema } from './analysis.js';
import { cloudWatchSchema } from './cloudwatch.js';

const DEADLINE = 'How long one query may take, retries included; past it the check is `unavailable`.';
const timeout = (example: string) =>
  boundedDuration(DURATION_BOUNDS.timeout)
    .default('5s')
    .meta(doc(DEADLINE, `timeout: ${example}`));

const prometheusSchema = strict({
  address: httpUrl().meta(
    doc('Base URL of the API (`/api/v1/query` is appended).', 'address: "http://prometheus.monitoring:9090"'),
  ),
  timeout: timeout('5s'),
  bearerTokenSecretRef: secretRef(
    'a bearer token sent as `Authorization: Bearer …`',
    '{name: prometheus-auth, key: token}',
  ).optional(),
  basicAuth: strict({
    username: z.string().min(1).meta(doc('The user name (not secret).', 'username: kubestead')),
    passwordSecretRef: secretRef('the basic-auth password', '{name: prometheus-basic, key: password}'),
  })
    .meta(
      doc(
        'HTTP basic authentication.',
        'basicAuth: {username: kubestead, passwordSecretRef: {name: prometheus-basic, key: password}}',
      ),
    )
    .optional(),
  headers: z
    .array(
      strict({
        name: z.string().min(1).meta(doc('Header name.', 'name: X-Scope-OrgID')),
        valueSecretRef: secretRef('the header value', '{name: mimir, key: tenant}'),
      }).meta(doc('One header.')),
    )
    .meta(
      doc(
        'Extra request headers whose values come from Secrets (a tenant ID, an API key).',
        'headers: [{name: X-Scope-OrgID, valueSecretRef: {name: mimir, key: tenant}}]',
      ),
    )
    .optional(),
  caSecretRef: secretRef(
    'a PEM CA bundle to trust for an https address',
    '{name: prometheus-ca, key: ca.crt}',
  ).optional(),
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
  site: z
    .enum(DATADOG_SITES)
    .default('datadoghq.com')
    .meta(doc('Your Datadog site; the API address is derived from it.', 'site: datadoghq.eu')),
  /** Overrides the API address derived from `site` (a proxy or private link). */
  address: httpUrl()
    .meta(
      doc(
        'Overrides the address derived from `site` (a proxy or private link).',
        'address: "https://datadog-proxy.internal"',
      ),
    )
    .optional(),
  apiKeySecretRef: secretRef('the Datadog API key', '{name: datadog, key: api-key}'),
  appKeySecretRef: secretRef('the Datadog application key', '{name: datadog, key: app-key}'),
  timeout: timeout('10s'),
});

const newRelicSchema = strict({
  accountId: z.number().int().positive().meta(doc('The account the NRQL runs in.', 'accountId: 1234567')),
  region: z
    .enum(['US', 'EU'])
    .default('US')
    .meta(doc('The data center of the account; picks the NerdGraph address.', 'region: EU')),
  /** Overrides the NerdGraph address derived from `region`. */
  address: httpUrl()
    .meta(
      doc('Overrides the NerdGraph address derived from `region`.', 'address: "https://api.eu.newrelic.com/graphql"'),
    )
    .optional(),
  apiKeySecretRef: secretRef('a New Relic user API key (`NRAK-…`)', '{name: newrelic, key: user-api-key}'),
  timeout: timeout('10s'),
});

export const PROVIDER_KINDS = ['prometheus', 'datadog', 'newRelic', 'web', 'cloudWatch'] as const;
export type ProviderKind = (typeof PROVIDER_KINDS)[number];

export const providerSchema = strict({
  prometheus: prometheusSchema
    .meta(
      doc(
        "A Prometheus-compatible HTTP API (Prometheus, Thanos, Mimir, VictoriaMetrics): instant queries at the tick's " +
          'time.',
        'prometheus: {address: "http://prometheus.monitoring:9090", timeout: 5s}',
      ),
    )
    .optional(),
  datadog: datadogSchema
    .meta(
      doc(
        "Datadog's metrics query API (v1 `/api/v1/query`).",
        'datadog: {site: datadoghq.eu, apiKeySecretRef: {name: datadog, key: api-key}, appKeySecretRef: {name: ' +
          'datadog, key: app-key}}',
      ),
    )
    .optional(),
  newRelic: newRelicSchema
    .meta(
      doc(
        'New Relic NRQL through NerdGraph.',
        'newRelic: {accountId: 1234567, region: EU, apiKeySecretRef: {name: newrelic, key: user-api-key}}',
      ),
    )
    .optional(),
  web: webSchema.optional(),
  cloudWatch: cloudWatchSchema.optional(),
})
  .superRefine((provider, ctx) => exactlyOne(provider, PROVIDER_KINDS, 'provider kind', ctx))
  .meta(
    doc(
      'One backend: exactly one of `prometheus`, `datadog`, `newRelic`, `web`, `cloudWatch`. The name is a DNS label.',
    ),
  );
