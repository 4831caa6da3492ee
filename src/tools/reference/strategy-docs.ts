/**
 * The reference's entries for the fields of the release strategies (docs/strategies.md): A/B and mirror
 * steps, blue-green and session affinity. Kept apart from policy-docs.ts, keyed the same way.
 */
export const STRATEGY_DOCS: Record<string, { description: string; example?: string }> = {
  'spec.strategy': {
    description:
      '`canary` (the default): the `steps`. `blueGreen`: the new version at full count is judged through a preview ' +
      'Service, then all traffic switches to it at once (`blueGreen`).',
    example: 'strategy: blueGreen',
  },
  'spec.blueGreen': {
    description: 'The blue-green settings; needs `strategy: blueGreen`, and excludes `steps`.',
    example: 'blueGreen: {previewService: checkout-preview, soak: 5m}',
  },
  'spec.blueGreen.previewService': {
    description:
      "A Service Kubestead creates and owns (the user's Service's ports; the new version's pods only), for test " +
      'traffic before the switch.',
    example: 'previewService: checkout-preview',
  },
  'spec.blueGreen.soak': {
    description: 'How long the checks judge the new version, every pod of it Ready, before the switch.',
    example: 'soak: 10m',
  },
  'spec.blueGreen.autoPromote': {
    description: '`false`: after the soak the switch waits for `kubestead promote`.',
    example: 'autoPromote: false',
  },
  'spec.blueGreen.scaleDownDelay': {
    description:
      'How long the old version stays at full count after the switch, the checks still running: a breach switches ' +
      'back to it in one write.',
    example: 'scaleDownDelay: 2m',
  },
  'spec.steps[].match': {
    description:
      'An A/B step: only requests matching an entry reach the canary (weight 0 for the rest); soaks for `soak`. ' +
      'Needs istio, gatewayAPI or nginx.',
    example: '- {match: [{headers: {x-canary: {exact: insider}}}], soak: 10m}',
  },
  'spec.steps[].match[]': { description: 'One entry: every condition in it holds (headers and cookie).' },
  'spec.steps[].match[].headers': {
    description: 'Request headers (lower-case names) and how each value is matched.',
    example: 'headers: {x-canary: {exact: insider}}',
  },
  'spec.steps[].match[].headers.<name>': { description: 'Exactly one of `exact`, `prefix` (istio only) or `regex`.' },
  'spec.steps[].match[].headers.<name>.exact': { description: 'The value, exactly.', example: 'exact: insider' },
  'spec.steps[].match[].headers.<name>.prefix': {
    description: 'The value starts with this (Istio only).',
    example: 'prefix: v2',
  },
  'spec.steps[].match[].headers.<name>.regex': {
    description: 'The value matches this regular expression (RE2 at the proxy; PCRE with nginx).',
    example: 'regex: "^(.*?;)?(canary=always)(;.*)?$"',
  },
  'spec.steps[].match[].cookie': {
    description: 'The request carries this cookie with this value (ingress-nginx: `canary-by-cookie`).',
    example: 'cookie: {name: canary}',
  },
  'spec.steps[].match[].cookie.name': { description: 'The cookie name.', example: 'name: canary' },
  'spec.steps[].match[].cookie.value': {
    description: 'Its value; ingress-nginx only routes by the value `always`.',
    example: 'value: always',
  },
  'spec.steps[].mirror': {
    description:
      "A mirror step: this percent of primary's requests is copied to the canary, whose answers are dropped; no " +
      'user is served by the canary. Needs istio, gatewayAPI or nginx (nginx: 100 only).',
    example: '- {mirror: 100, soak: 5m}',
  },
  'spec.trafficRouting.replicas.service': {
    description:
      "The user's Service, named where several select the target's pods (blue-green switches its selector; default: " +
      'the one that does).',
  },
  'spec.trafficRouting.replicas.service.name': {
    description: 'Service name, in the policy namespace.',
    example: 'name: checkout',
  },
  'spec.trafficRouting.sessionAffinity': {
    description:
      'A client that reached the canary once keeps reaching it for the rest of the rollout: the canary sets this ' +
      'cookie, and a route matching it goes to the canary. Istio and Gateway API.',
    example: 'sessionAffinity: {cookieName: kubestead-canary, maxAge: 24h}',
  },
  'spec.trafficRouting.sessionAffinity.cookieName': {
    description: 'The cookie the canary sets.',
    example: 'cookieName: kubestead-canary',
  },
  'spec.trafficRouting.sessionAffinity.maxAge': {
    description: "The cookie's Max-Age.",
    example: 'maxAge: 24h',
  },
};
