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

/** Examples of the web provider's fields (docs/checks.md, "Any JSON API: the web provider"). */
export const WEB_DOCS: Record<string, { description?: string; example: string }> = {
  'spec.providers.<name>.web': { example: 'web: {url: "http://graphite.monitoring:8080"}' },
  'spec.providers.<name>.web.url': { example: 'url: "https://abc12345.live.dynatrace.com"' },
  'spec.providers.<name>.web.method': { example: 'method: POST' },
  'spec.providers.<name>.web.headers': {
    example: 'headers: [{name: Authorization, valueFrom: {secretKeyRef: {name: influx, key: authorization}}}]',
  },
  'spec.providers.<name>.web.headers[]': { example: '- {name: X-Team, value: shop}' },
  'spec.providers.<name>.web.headers[].name': { example: 'name: Authorization' },
  'spec.providers.<name>.web.headers[].value': { example: 'value: application/json' },
  'spec.providers.<name>.web.headers[].valueFrom': { example: 'valueFrom: {secretKeyRef: {name: gw, key: token}}' },
  'spec.providers.<name>.web.headers[].valueFrom.secretKeyRef': { example: 'secretKeyRef: {name: gw, key: token}' },
  'spec.providers.<name>.web.timeout': { example: 'timeout: 10s' },
  'spec.providers.<name>.web.caSecretRef': { example: 'caSecretRef: {name: gw-ca, key: ca.crt}' },
};

/** Examples of the webhooks' fields (docs/webhooks.md). */
export const WEBHOOK_DOCS: Record<string, { description?: string; example: string }> = {
  'spec.webhooks': { example: 'webhooks: [{name: release-gate, type: confirmPromotion, url: "http://gates.qa/ok"}]' },
  'spec.webhooks[]': { example: '- {name: acceptance, type: preRollout, url: "http://tester.qa/run", timeout: 60s}' },
  'spec.webhooks[].name': { example: 'name: release-gate' },
  'spec.webhooks[].type': { example: 'type: confirmPromotion' },
  'spec.webhooks[].url': { example: 'url: "http://gates.qa/ok"' },
  'spec.webhooks[].timeout': { example: 'timeout: 60s' },
  'spec.webhooks[].metadata': { example: 'metadata: {suite: smoke}' },
  'spec.webhooks[].metadata.<name>': { description: 'One metadata string.', example: 'suite: smoke' },
  'spec.webhooks[].secretRef': { example: 'secretRef: {name: hooks, key: signing}' },
};
