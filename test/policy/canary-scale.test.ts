import { describe, expect, it } from 'vitest';
import { loadPolicies } from '../../src/pipeline/policy/load.js';
import { policyYaml } from '../helpers.js';

const ROUTERS: Record<string, string> = {
  default: '',
  replicas: 'trafficRouting: {replicas: {}}',
  istio: 'trafficRouting: {istio: {virtualService: {name: vs}}}',
  nginx: 'trafficRouting: {nginx: {ingress: {name: web}}}',
};

const errorsOf = (router: string, scale: string): string[] =>
  loadPolicies(
    policyYaml(`targetRef: {kind: Deployment, name: web}\n${ROUTERS[router]}\nsteps: [{weight: 25}]\n${scale}`),
    'p.yaml',
  ).errors.map((line) => line.replace(/^p\.yaml:\d+: /, ''));

const REPLICAS_REFUSED =
  'spec.canaryScale: canaryScale: autoscaled needs a weighted router (istio, gatewayAPI, smi, nginx, …): with ' +
  "replica routing the canary's pod share is its traffic share, so Kubestead sizes it";

describe('spec.canaryScale (docs/hpa.md)', () => {
  it.each([
    ['default', 'canaryScale: proportional', []],
    ['default', '', []],
    ['istio', 'canaryScale: autoscaled', []],
    ['nginx', 'canaryScale: proportional', []],
    ['default', 'canaryScale: autoscaled', [REPLICAS_REFUSED]],
    ['replicas', 'canaryScale: autoscaled', [REPLICAS_REFUSED]],
  ])('with %s routing, `%s` gives %j', (router, scale, expected) => {
    expect(errorsOf(router, scale)).toEqual(expected);
  });

  it('names the values it takes when given another', () => {
    const [line] = errorsOf('istio', 'canaryScale: hpa');
    expect(line).toMatch(/^spec\.canaryScale: .*"proportional".*"autoscaled"/);
  });

  it('is kept in the parsed spec', () => {
    const loaded = loadPolicies(
      policyYaml(
        'targetRef: {kind: Deployment, name: web}\n' +
          ROUTERS.istio +
          '\nsteps: [{weight: 25}]\ncanaryScale: autoscaled',
      ),
      'p.yaml',
    );
    expect(loaded.policies[0]?.policy.spec.canaryScale).toBe('autoscaled');
  });
});
