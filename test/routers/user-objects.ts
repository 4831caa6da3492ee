import type { Body } from '../support/sandbox.js';

/** An HTTPRoute as Envoy Gateway's traffic-splitting task writes one, plus a rule to another backend. */
export function userRoute(): Body {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'checkout' },
    spec: {
      parentRefs: [{ name: 'eg' }],
      hostnames: ['shop.example.com'],
      rules: [
        {
          matches: [{ path: { type: 'PathPrefix', value: '/checkout' } }],
          filters: [
            { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-shop', value: 'checkout' }] } },
          ],
          backendRefs: [{ name: 'checkout', port: 80 }],
        },
        {
          matches: [{ path: { type: 'PathPrefix', value: '/static' } }],
          backendRefs: [{ name: 'static', port: 8080 }],
        },
      ],
    },
  };
}
