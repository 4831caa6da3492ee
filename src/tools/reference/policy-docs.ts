/**
 * What each policy field means, with an example, keyed by the reference's field path. The types,
 * defaults and bounds come from the zod schema (src/tools/reference/fields.ts); a field of the schema
 * without an entry here fails test/reference/policy-reference.test.ts.
 */
import { WINDOW_DOCS } from './window-docs.js';
import { CONFIG_TRACKING_DOCS, FAST_REVERT_DOCS } from './config-docs.js';

export interface FieldDoc {
  description: string;
  /** A YAML fragment as a user writes it (the field with its parent key when that helps). */
  example?: string;
}

const SECRET = (what: string): FieldDoc => ({
  description:
    `Secret holding ${what}, read with a single GET when a check runs; its value never appears in a log, ` +
    `event, status or error.`,
  example: '{name: prometheus-auth, key: token}',
});
const DEADLINE = 'How long one query may take, retries included; past it the check is `unavailable`.';

export const POLICY_DOCS: Record<string, FieldDoc> = {
  apiVersion: { description: 'The API version of the resource.', example: 'apiVersion: kubestead.io/v1alpha1' },
  kind: { description: 'The resource kind.', example: 'kind: RolloutPolicy' },
  metadata: {
    description: 'Standard Kubernetes object metadata; other fields than those listed are kept as they are.',
  },
  'metadata.name': {
    description: 'The policy name, unique in its namespace; audit segments and reports are named after it.',
    example: 'name: checkout',
  },
  'metadata.namespace': {
    description:
      'The namespace of the policy and of its target Deployment, Secrets and routers (a file without one means ' +
      '`default`).',
    example: 'namespace: shop',
  },
  'metadata.labels': { description: 'Labels, as on any object.' },
  'metadata.labels.<name>': { description: 'One label value.', example: 'team: payments' },
  'metadata.annotations': {
    description:
      'Annotations. `kubestead.io/override` is how the promote / abort / pause / resume commands talk to the ' +
      'controller; it is consumed and removed on the next tick.',
  },
  'metadata.annotations.<name>': {
    description: 'One annotation value.',
    example: 'owner: "team-payments@example.com"',
  },
  spec: { description: 'What to release and how to judge it.' },
  'spec.targetRef': {
    description:
      'The Deployment whose template changes start a canary. Kubestead never edits its template; it creates ' +
      '`<name>-primary` beside it.',
    example: 'targetRef: {kind: Deployment, name: checkout}',
  },
  'spec.targetRef.kind': { description: 'Only Deployments are released.', example: 'kind: Deployment' },
  'spec.targetRef.name': { description: 'The Deployment name, in the policy namespace.', example: 'name: checkout' },
  'spec.targetRef.apiVersion': {
    description: 'May be written for clarity; only `apps/v1` is accepted.',
    example: 'apiVersion: apps/v1',
  },
  'spec.interval': {
    description: 'How often the checks are queried and a decision is taken while a canary runs.',
    example: 'interval: 30s',
  },
  'spec.steps': {
    description:
      'The canary steps, in order. Weight steps must ascend; after the last step passes the canary is promoted.',
    example: 'steps: [{weight: 5}, {weight: 25, soak: 10m}, {pause: {}}, {weight: 50}]',
  },
  'spec.steps[]': { description: 'One step: exactly one of `weight` or `pause`.' },
  'spec.steps[].weight': {
    description:
      'Percent of traffic (or of pods, with replica routing) the canary gets at this step; decimals allowed (0.5 = ' +
      'half a percent).',
    example: '- weight: 5',
  },
  'spec.steps[].soak': {
    description: 'How long the step must stay healthy before the next step (default 5m). Paused time does not count.',
    example: '- {weight: 25, soak: 10m}',
  },
  'spec.steps[].pause': {
    description: 'A gate: `pause: {}` waits for `kubestead resume` or `promote`; with a duration it waits that long.',
    example: '- pause: {}',
  },
  'spec.steps[].pause.duration': {
    description: 'A timed pause: the rollout continues by itself after this long.',
    example: '- pause: {duration: 15m}',
  },
  'spec.trafficRouting': {
    description: 'How the canary gets its share: exactly one router.',
    example: 'trafficRouting: {replicas: {}}',
  },
  'spec.trafficRouting.replicas': {
    description:
      "No router: the user's Service selects both primary and canary pods, and the canary gets the replica count " +
      'whose share is nearest the step weight (at least one pod).',
    example: 'replicas: {}',
  },
  'spec.trafficRouting.istio.service': {
    description: "The user's Service, named where several select the target's pods (default: the one that does).",
  },
  'spec.trafficRouting.istio.service.name': {
    description: 'Service name, in the policy namespace.',
    example: 'name: checkout',
  },
  'spec.trafficRouting.gatewayAPI.service': {
    description: "The user's Service, named where several select the target's pods (default: the one that does).",
  },
  'spec.trafficRouting.gatewayAPI.service.name': {
    description: 'Service name, in the policy namespace.',
    example: 'name: checkout',
  },
  'spec.trafficRouting.smi.service': {
    description: "The user's Service, named where several select the target's pods (default: the one that does).",
  },
  'spec.trafficRouting.smi.service.name': {
    description: 'Service name, in the policy namespace.',
    example: 'name: checkout',
  },
  'spec.trafficRouting.nginx.service': {
    description: "The user's Service, named where several select the target's pods (default: the one that does).",
  },
  'spec.trafficRouting.nginx.service.name': {
    description: 'Service name, in the policy namespace.',
    example: 'name: checkout',
  },
  'spec.trafficRouting.istio': {
    description: 'An Istio VirtualService (and optionally a DestinationRule with subsets) carries the weights.',
    example: 'istio: {virtualService: {name: checkout, routes: [primary]}}',
  },
  'spec.trafficRouting.istio.virtualService': {
    description: 'The VirtualService whose HTTP routes get primary and canary destinations.',
  },
  'spec.trafficRouting.istio.virtualService.name': {
    description: 'VirtualService name, in the policy namespace.',
    example: 'name: checkout',
  },
  'spec.trafficRouting.istio.virtualService.routes': {
    description: 'Names of the HTTP routes to weight (default: every route).',
    example: 'routes: [primary]',
  },
  'spec.trafficRouting.istio.virtualService.routes[]': { description: 'One route name.' },
  'spec.trafficRouting.istio.destinationRule': {
    description: 'Route to subsets of one host instead of the `-primary` and `-canary` Services.',
  },
  'spec.trafficRouting.istio.destinationRule.name': {
    description: 'DestinationRule name, in the policy namespace.',
    example: 'name: checkout',
  },
  'spec.trafficRouting.istio.destinationRule.canarySubsetName': {
    description: 'The subset that selects canary pods.',
    example: 'canarySubsetName: canary',
  },
  'spec.trafficRouting.istio.destinationRule.stableSubsetName': {
    description: 'The subset that selects primary pods.',
    example: 'stableSubsetName: stable',
  },
  'spec.trafficRouting.gatewayAPI': {
    description: 'A Gateway API HTTPRoute carries the weights (backendRef weights).',
    example: 'gatewayAPI: {httpRoute: {name: checkout}}',
  },
  'spec.trafficRouting.gatewayAPI.httpRoute': { description: 'The HTTPRoute to weight.' },
  'spec.trafficRouting.gatewayAPI.httpRoute.name': {
    description: 'HTTPRoute name, in the policy namespace.',
    example: 'name: checkout',
  },
  'spec.trafficRouting.smi': {
    description: 'An SMI TrafficSplit carries the weights.',
    example: 'smi: {trafficSplit: {name: checkout}}',
  },
  'spec.trafficRouting.smi.trafficSplit': { description: 'The TrafficSplit to weight.' },
  'spec.trafficRouting.smi.trafficSplit.name': {
    description: 'TrafficSplit name, in the policy namespace.',
    example: 'name: checkout',
  },
  'spec.trafficRouting.nginx': {
    description:
      'ingress-nginx canary annotations on a copy of the Ingress carry the weight (`canary-weight-total` gives ' +
      'sub-percent steps).',
    example: 'nginx: {ingress: {name: checkout}}',
  },
  'spec.trafficRouting.nginx.ingress': { description: "The user's Ingress; a `-canary` copy is created beside it." },
  'spec.trafficRouting.nginx.ingress.name': {
    description: 'Ingress name, in the policy namespace.',
    example: 'name: checkout',
  },
  'spec.providers': {
    description: 'Metric backends by name; checks refer to them by that name.',
    example: 'providers: {prom: {prometheus: {address: "http://prometheus.monitoring:9090"}}}',
  },
  'spec.providers.<name>': {
    description: 'One backend: exactly one of `prometheus`, `datadog`, `newRelic`. The name is a DNS label.',
  },
  'spec.providers.<name>.prometheus': {
    description:
      "A Prometheus-compatible HTTP API (Prometheus, Thanos, Mimir, VictoriaMetrics): instant queries at the tick's " +
      'time.',
    example: 'prometheus: {address: "http://prometheus.monitoring:9090", timeout: 5s}',
  },
  'spec.providers.<name>.prometheus.address': {
    description: 'Base URL of the API (`/api/v1/query` is appended).',
    example: 'address: "http://prometheus.monitoring:9090"',
  },
  'spec.providers.<name>.prometheus.timeout': { description: DEADLINE, example: 'timeout: 5s' },
  'spec.providers.<name>.prometheus.bearerTokenSecretRef': SECRET('a bearer token sent as `Authorization: Bearer …`'),
  'spec.providers.<name>.prometheus.basicAuth': {
    description: 'HTTP basic authentication.',
    example: 'basicAuth: {username: kubestead, passwordSecretRef: {name: prom, key: password}}',
  },
  'spec.providers.<name>.prometheus.basicAuth.username': {
    description: 'The user name (not secret).',
    example: 'username: kubestead',
  },
  'spec.providers.<name>.prometheus.basicAuth.passwordSecretRef': SECRET('the password'),
  'spec.providers.<name>.prometheus.headers': {
    description: 'Extra request headers whose values come from Secrets (a tenant ID, an API key).',
    example: 'headers: [{name: X-Scope-OrgID, valueSecretRef: {name: mimir, key: tenant}}]',
  },
  'spec.providers.<name>.prometheus.headers[]': { description: 'One header.' },
  'spec.providers.<name>.prometheus.headers[].name': { description: 'Header name.', example: 'name: X-Scope-OrgID' },
  'spec.providers.<name>.prometheus.headers[].valueSecretRef': SECRET('the header value'),
  'spec.providers.<name>.prometheus.caSecretRef': SECRET('a PEM CA bundle to trust for an https address'),
  'spec.providers.<name>.datadog': {
    description: "Datadog's metrics query API (v1 `/api/v1/query`).",
    example:
      'datadog: {site: datadoghq.eu, apiKeySecretRef: {name: datadog, key: api-key}, appKeySecretRef: {name: ' +
      'datadog, key: app-key}}',
  },
  'spec.providers.<name>.datadog.site': {
    description: 'Your Datadog site; the API address is derived from it.',
    example: 'site: datadoghq.eu',
  },
  'spec.providers.<name>.datadog.address': {
    description: 'Overrides the address derived from `site` (a proxy or private link).',
    example: 'address: "https://datadog-proxy.internal"',
  },
  'spec.providers.<name>.datadog.apiKeySecretRef': SECRET('the Datadog API key'),
  'spec.providers.<name>.datadog.appKeySecretRef': SECRET('the Datadog application key'),
  'spec.providers.<name>.datadog.timeout': { description: DEADLINE, example: 'timeout: 10s' },
  'spec.providers.<name>.newRelic': {
    description: 'New Relic NRQL through NerdGraph.',
    example: 'newRelic: {accountId: 1234567, region: EU, apiKeySecretRef: {name: newrelic, key: api-key}}',
  },
  'spec.providers.<name>.newRelic.accountId': {
    description: 'The account the NRQL runs in.',
    example: 'accountId: 1234567',
  },
  'spec.providers.<name>.newRelic.region': {
    description: 'The data center of the account; picks the NerdGraph address.',
    example: 'region: EU',
  },
  'spec.providers.<name>.newRelic.address': {
    description: 'Overrides the NerdGraph address derived from `region`.',
    example: 'address: "https://api.eu.newrelic.com/graphql"',
  },
  'spec.providers.<name>.newRelic.apiKeySecretRef': SECRET('a New Relic user API key'),
  'spec.providers.<name>.newRelic.timeout': { description: DEADLINE, example: 'timeout: 10s' },
  'spec.checks': {
    description:
      'The measurements that decide. Every check is queried each interval; one out of bounds rolls back at once.',
  },
  'spec.checks[]': {
    description:
      'One check: a query, how to read a number from the answer, and its bounds (at least one of `min`, `max`).',
    example: '- {name: error-rate, provider: prom, query: "…", max: 0.01}',
  },
  'spec.checks[].name': {
    description: "The check's name in facts, decisions, status and messages (`error-rate = 0.034 is above max 0.01`).",
    example: 'name: error-rate',
  },
  'spec.checks[].provider': { description: 'A key of `spec.providers`.', example: 'provider: prom' },
  'spec.checks[].query': {
    description:
      "The query in the provider's language. `{{ target.name }}`, `{{ target.namespace }}`, `{{ policy.name }}` and " +
      '`{{ rollout.canaryRevision }}` are substituted, escaped for where they land.',
    example: 'query: sum(rate(http_requests_total{app="{{ target.name }}",track="canary",code=~"5.."}[2m]))',
  },
  'spec.checks[].value': {
    description:
      "A jsonata expression that picks the number out of the provider's answer; by default the single number of the " +
      'answer (anything else is `unavailable`).',
    example: 'value: "results[0].score"',
  },
  'spec.checks[].min': {
    description: 'The check fails when the value is below this. A value equal to a bound passes.',
    example: 'min: 0.9',
  },
  'spec.checks[].max': {
    description: 'The check fails when the value is above this. A value equal to a bound passes.',
    example: 'max: 0.01',
  },
  'spec.derived': {
    description:
      'Extra facts computed each tick by jsonata over the snapshot, for custom rules (`facts.derived.<name>`).',
    example: 'derived: {errorBudgetBurn: "checks.`error-rate`.value / 0.001"}',
  },
  'spec.derived.<name>': {
    description: 'A jsonata expression; its name is an identifier.',
    example: 'errorBudgetBurn: "checks.`error-rate`.value / 0.001"',
  },
  'spec.rules': {
    description: 'Custom rules, checked in order after the built-in breach, pod-health and unavailable-metric rules.',
  },
  'spec.rules[]': {
    description: 'One rule: a json-rules-engine condition and what to do when it holds.',
    example:
      '- {name: low-traffic-hold, when: {all: [{fact: derived, path: "$.requests", operator: lessThan, value: 50}]}, ' +
      'then: hold}',
  },
  'spec.rules[].name': { description: "The rule's name in decision reasons.", example: 'name: low-traffic-hold' },
  'spec.rules[].when': {
    description: 'A json-rules-engine condition over the facts (`rollout`, `checks`, `derived`, `kube`).',
    example: 'when: {all: [{fact: derived, path: "$.requests", operator: lessThan, value: 50}]}',
  },
  'spec.rules[].then': { description: 'The action when the condition holds.', example: 'then: hold' },
  'spec.rules[].message': {
    description:
      "The reason's message in decisions, status and Events (default: the rule's name and action); " +
      "`{checks.error-rate.value}`, `{derived.burn}` and any snapshot path are filled with the snapshot's values, " +
      'and `{step}` with the step as people read it (`2/3`).',
    example: 'message: "only {derived.requests} requests at step {step}: holding"',
  },
  'spec.onMetricUnavailable': {
    description:
      'What a check that cannot be measured does: `rollback`, or `pause` that lifts by itself when the metric comes ' +
      'back (the soak clock stops meanwhile).',
    example: 'onMetricUnavailable: pause',
  },
  'spec.mode': {
    description:
      '`shadow` gathers facts, decides and records every tick but changes nothing: a dry run next to a release ' +
      'process you already have.',
    example: 'mode: shadow',
  },
  'spec.podHealth': { description: 'Canary pod health, judged besides the metric checks.' },
  'spec.podHealth.maxRestarts': {
    description: 'More container restarts of canary pods than this rolls back.',
    example: 'maxRestarts: 3',
  },
  'spec.podHealth.progressDeadline': {
    description: 'A canary not fully ready this long into a step rolls back.',
    example: 'progressDeadline: 10m',
  },
  'spec.podHealth.maxWarningEvents': {
    description: 'More Warning events on canary pods than this rolls back; null turns the limit off.',
    example: 'maxWarningEvents: 5',
  },
  'spec.audit': { description: 'Where decisions go besides the in-cluster audit log.' },
  'spec.audit.webhook': {
    description: 'A SIEM endpoint that receives every audit entry, signed, at least once.',
    example: 'webhook: {url: "https://siem.example/kubestead", secretRef: {name: siem, key: hmac}}',
  },
  'spec.audit.webhook.url': { description: 'The endpoint, http(s).', example: 'url: "https://siem.example/kubestead"' },
  'spec.audit.webhook.format': {
    description:
      'The body format: `json` (`{"source":"kubestead","entries":[…]}`), `splunk` (HEC events, one per entry) or ' +
      '`elasticsearch` (`_bulk` NDJSON, the entry hash as `_id`).',
    example: 'format: splunk',
  },
  'spec.audit.webhook.secretRef': {
    description:
      'Secret holding the Standard Webhooks signing secret (`whsec_…`; two separated by a space while rotating), ' +
      'read when a batch is sent; its value never appears in a log, event, status, entry or error.',
    example: '{name: siem, key: hmac}',
  },
  'spec.audit.webhook.tokenSecretRef': {
    description:
      'Secret holding the Splunk HEC token (required for `splunk`) or the Elasticsearch API key, sent as ' +
      '`Authorization: Splunk …` / `ApiKey …`.',
    example: '{name: siem, key: hec-token}',
  },
  ...WINDOW_DOCS,
  ...CONFIG_TRACKING_DOCS,
  ...FAST_REVERT_DOCS,
};
