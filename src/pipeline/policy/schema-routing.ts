import { z } from 'zod';
import { strict } from './strict.js';
import { doc, exactlyOne, name } from './schema-parts.js';
import { sessionAffinitySchema } from './strategies.js';

const SERVICE = "The user's Service, named where several select the target's pods (default: the one that does).";

const named = (description: string, example = 'name: checkout') =>
  strict({ name: name('resource name').meta(doc(description, example)) });

const service = () =>
  named('Service name, in the policy namespace.').meta(doc(SERVICE, 'service: {name: checkout}')).optional();

export const ROUTER_KINDS = ['replicas', 'istio', 'gatewayAPI', 'smi', 'nginx'] as const;
export type RouterKind = (typeof ROUTER_KINDS)[number];

const istioSchema = strict({
  virtualService: strict({
    name: name('VirtualService name').meta(doc('VirtualService name, in the policy namespace.', 'name: checkout')),
    routes: z
      .array(z.string().min(1).meta(doc('One route name.', '- primary')))
      .meta(doc('Names of the HTTP routes to weight (default: every route).', 'routes: [primary]'))
      .optional(),
  }).meta(
    doc(
      'The VirtualService whose HTTP routes get primary and canary destinations.',
      'virtualService: {name: checkout}',
    ),
  ),
  service: service(),
  destinationRule: strict({
    name: name('DestinationRule name').meta(doc('DestinationRule name, in the policy namespace.', 'name: checkout')),
    canarySubsetName: z.string().min(1).meta(doc('The subset that selects canary pods.', 'canarySubsetName: canary')),
    stableSubsetName: z.string().min(1).meta(doc('The subset that selects primary pods.', 'stableSubsetName: stable')),
  })
    .meta(
      doc(
        'Route to subsets of one host instead of the `-primary` and `-canary` Services.',
        'destinationRule: {name: checkout, canarySubsetName: canary, stableSubsetName: stable}',
      ),
    )
    .optional(),
});

export const trafficRoutingSchema = strict({
  replicas: strict({
    service: named('Service name, in the policy namespace.')
      .meta(
        doc(
          "The user's Service, named where several select the target's pods (blue-green switches its selector; " +
            'default: the one that does).',
          'service: {name: checkout}',
        ),
      )
      .optional(),
  })
    .meta(
      doc(
        "No router: the user's Service selects both primary and canary pods, and the canary gets the replica count " +
          'whose share is nearest the step weight (at least one pod).',
        'replicas: {}',
      ),
    )
    .optional(),
  istio: istioSchema
    .meta(
      doc(
        'An Istio VirtualService (and optionally a DestinationRule with subsets) carries the weights.',
        'istio: {virtualService: {name: checkout, routes: [primary]}}',
      ),
    )
    .optional(),
  gatewayAPI: strict({
    httpRoute: named('HTTPRoute name, in the policy namespace.').meta(
      doc('The HTTPRoute to weight.', 'httpRoute: {name: checkout}'),
    ),
    service: service(),
  })
    .meta(
      doc(
        'A Gateway API HTTPRoute carries the weights (backendRef weights).',
        'gatewayAPI: {httpRoute: {name: checkout}}',
      ),
    )
    .optional(),
  smi: strict({
    trafficSplit: named('TrafficSplit name, in the policy namespace.').meta(
      doc('The TrafficSplit to weight.', 'trafficSplit: {name: checkout}'),
    ),
    service: service(),
  })
    .meta(doc('An SMI TrafficSplit carries the weights.', 'smi: {trafficSplit: {name: checkout}}'))
    .optional(),
  nginx: strict({
    ingress: named('Ingress name, in the policy namespace.').meta(
      doc("The user's Ingress; a `-canary` copy is created beside it.", 'ingress: {name: checkout}'),
    ),
    service: service(),
  })
    .meta(
      doc(
        'ingress-nginx canary annotations on a copy of the Ingress carry the weight (`canary-weight-total` gives ' +
          'sub-percent steps).',
        'nginx: {ingress: {name: checkout}}',
      ),
    )
    .optional(),
  sessionAffinity: sessionAffinitySchema
    .meta(
      doc(
        'A client that reached the canary once keeps reaching it for the rest of the rollout: the canary sets this ' +
          'cookie, and a route matching it goes to the canary. Istio and Gateway API.',
        'sessionAffinity: {cookieName: kubestead-canary, maxAge: 24h}',
      ),
    )
    .optional(),
}).superRefine((routing, ctx) => exactlyOne(routing, ROUTER_KINDS, 'traffic router', ctx));
