import { describe, expect, it } from 'vitest';
import { loadPolicies } from '../../src/pipeline/policy/load.js';
import { CAPABILITIES, can, cannotMessage } from '../../src/pipeline/policy/routing.js';
import { ROUTER_KINDS } from '../../src/pipeline/policy/schema.js';
import { describeMatch, describeStep, type StepShape } from '../../src/pipeline/policy/strategies.js';
import { policyYaml } from '../helpers.js';

const ROUTERS: Record<string, string> = {
  replicas: 'trafficRouting: {replicas: {}}',
  istio: 'trafficRouting: {istio: {virtualService: {name: vs}}}',
  gatewayAPI: 'trafficRouting: {gatewayAPI: {httpRoute: {name: web}}}',
  smi: 'trafficRouting: {smi: {trafficSplit: {name: web}}}',
  nginx: 'trafficRouting: {nginx: {ingress: {name: web}}}',
};

const spec = (router: string, rest: string) => `targetRef: {kind: Deployment, name: web}\n${ROUTERS[router]}\n${rest}`;
const errorsOf = (text: string): string[] => loadPolicies(policyYaml(text), 'p.yaml').errors;
/** The message of each error line, without `p.yaml:LINE: `. */
const messages = (text: string): string[] => errorsOf(text).map((line) => line.replace(/^p\.yaml:\d+: /, ''));

const AB = 'steps: [{match: [{headers: {x-canary: {exact: insider}}}], soak: 10m}, {weight: 25}]';
const MIRROR = (percent: number) => `steps: [{mirror: ${percent}, soak: 5m}, {weight: 25}]`;
const AFFINITY = (router: string) =>
  spec(router, 'steps: [{weight: 5}]').replace(
    ROUTERS[router]!,
    `${ROUTERS[router]!.slice(0, -1)}, sessionAffinity: {cookieName: kubestead-canary}}`,
  );

describe('A/B and mirror steps: what each router can do', () => {
  it.each(ROUTER_KINDS.map((kind) => [kind, can(kind, 'headerMatch')] as const))(
    'a match step with %s routing is accepted: %s',
    (kind, accepted) => {
      expect(messages(spec(kind, AB))).toEqual(
        accepted ? [] : [`spec.steps[0].match: ${cannotMessage(kind, 'headerMatch')}`],
      );
    },
  );

  it('says the issue’s own line for replica routing', () => {
    expect(errorsOf(spec('replicas', AB))).toEqual([
      'p.yaml:7: spec.steps[0].match: replica routing cannot route by header; use istio, gatewayAPI or nginx',
    ]);
  });

  it.each(ROUTER_KINDS.map((kind) => [kind] as const))('a mirror step of 100 percent with %s routing', (kind) => {
    expect(messages(spec(kind, MIRROR(100)))).toEqual(
      can(kind, 'mirror') ? [] : [`spec.steps[0].mirror: ${cannotMessage(kind, 'mirror')}`],
    );
  });

  it('mirrors a part of the requests on istio and gatewayAPI, never on nginx', () => {
    expect(messages(spec('istio', MIRROR(12.5)))).toEqual([]);
    expect(messages(spec('gatewayAPI', MIRROR(10)))).toEqual([]);
    expect(messages(spec('nginx', MIRROR(10)))).toEqual([
      'spec.steps[0].mirror: nginx routing cannot mirror a part of the requests (ingress-nginx mirror-target copies ' +
        'every request; use 100); use istio or gatewayAPI',
    ]);
  });

  it.each(ROUTER_KINDS.map((kind) => [kind] as const))('session affinity with %s routing', (kind) => {
    expect(messages(AFFINITY(kind))).toEqual(
      can(kind, 'sessionAffinity')
        ? []
        : [`spec.trafficRouting.sessionAffinity: ${cannotMessage(kind, 'sessionAffinity')}`],
    );
  });

  it('matches a header by prefix on istio only', () => {
    const prefix = 'steps: [{match: [{headers: {x-beta: {prefix: v2}}}]}, {weight: 5}]';
    expect(messages(spec('istio', prefix))).toEqual([]);
    for (const kind of ['gatewayAPI', 'nginx'] as const)
      expect(messages(spec(kind, prefix))).toEqual([
        `spec.steps[0].match[0].headers.x-beta.prefix: ${kind} routing cannot match a header by prefix; use istio`,
      ]);
  });

  it('gives nginx one header and one cookie, one condition an entry, the cookie value always', () => {
    const steps = `steps:
  - match:
      - headers: {x-canary: {exact: insider}}
      - cookie: {name: canary}
      - headers: {x-beta: {regex: "^v2"}}
      - {headers: {x-a: {exact: "1"}, x-b: {exact: "2"}}}
      - cookie: {name: beta, value: "yes"}`;
    expect(messages(spec('nginx', steps))).toEqual([
      'spec.steps[0].match[2]: nginx routing matches one header per step (match[0] has it); use istio or gatewayAPI',
      'spec.steps[0].match[3]: nginx routing matches one condition per entry (canary-by-header or canary-by-cookie); ' +
        'use istio or gatewayAPI',
      'spec.steps[0].match[4]: nginx routing matches one cookie per step (match[1] has it); use istio or gatewayAPI',
      'spec.steps[0].match[4].cookie.value: nginx routing matches a cookie only by the value "always" ' +
        '(canary-by-cookie); use istio or gatewayAPI',
    ]);
    expect(messages(spec('istio', steps))).toEqual([]);
  });

  it.each([
    ['two kinds in one step', 'steps: [{weight: 5, mirror: 100}]', 'spec.steps[0]: a step has exactly one of'],
    ['an empty match', 'steps: [{match: []}]', 'spec.steps[0].match: a match step needs at least one entry'],
    ['an entry without a condition', 'steps: [{match: [{}]}]', 'spec.steps[0].match[0]: a match entry needs headers'],
    [
      'two ways of matching one header',
      'steps: [{match: [{headers: {x-a: {exact: a, regex: b}}}]}]',
      'spec.steps[0].match[0].headers.x-a: a header match has exactly one of exact, prefix or regex; got exact and regex',
    ],
    [
      'an upper-case header name',
      'steps: [{match: [{headers: {X-Canary: {exact: a}}}]}]',
      'expected a lower-case HTTP header name, got "X-Canary"',
    ],
    ['a broken regex', 'steps: [{match: [{headers: {x-a: {regex: "(a"}}}]}]', 'not a regular expression: "(a"'],
    [
      'a cookie twice',
      'steps: [{match: [{cookie: {name: c}, headers: {cookie: {exact: c=1}}}]}]',
      'spec.steps[0].match[0].cookie: a match entry has either cookie or headers.cookie, not both',
    ],
    ['a mirror over 100', 'steps: [{mirror: 120}]', 'spec.steps[0].mirror: a mirror percent must be at most 100'],
  ])('refuses %s', (_, steps, message) => {
    expect(messages(spec('istio', steps)).join('\n')).toContain(message);
  });

  it('keeps weight order among weight steps only', () => {
    expect(
      messages(spec('istio', `steps: [{weight: 10}, {mirror: 100}, {match: [{cookie: {name: c}}]}, {weight: 20}]`)),
    ).toEqual([]);
  });

  it('describes a match as people read it', () => {
    expect(
      describeMatch([
        { headers: { 'x-canary': { exact: 'insider' }, 'x-beta': { prefix: 'v2' } } },
        { headers: { user: { regex: '^a.*' } } },
        { cookie: { name: 'canary', value: 'always' } },
      ]),
    ).toBe('x-canary=insider and x-beta^=v2 or user~=^a.* or cookie canary=always');
  });

  it.each<[StepShape, string]>([
    [{ match: [{ headers: { 'x-canary': { exact: 'insider' } } }] }, 'A/B x-canary=insider'],
    [
      { match: [{ cookie: { name: 'canary', value: 'always' } }, { headers: { u: { regex: '^a' } } }] },
      'A/B cookie canary=always or u~=^a',
    ],
    [{ mirror: 100 }, 'mirror 100 %'],
    [{ mirror: 12.5 }, 'mirror 12.5 %'],
    [{ weight: 25 }, 'weight 25 %'],
    [{ pause: {} }, 'pause'],
  ])('describes the kind of step %j as %s (status.stage)', (step, shown) => {
    expect(describeStep(step)).toBe(shown);
  });

  it('lists for each capability the routers that have it', () => {
    expect(CAPABILITIES.headerMatch.routers).toEqual(['istio', 'gatewayAPI', 'nginx']);
    expect(CAPABILITIES.sessionAffinity.routers).toEqual(['istio', 'gatewayAPI']);
  });
});

describe('blue-green', () => {
  const BG = 'strategy: blueGreen\nblueGreen: {previewService: web-preview}';

  it.each(ROUTER_KINDS.map((kind) => [kind] as const))('works with %s routing and fills its defaults', (kind) => {
    const { policies, errors } = loadPolicies(policyYaml(spec(kind, BG)), 'p.yaml');
    expect(errors).toEqual([]);
    expect(policies[0]?.policy.spec).toMatchObject({
      strategy: 'blueGreen',
      steps: [],
      blueGreen: { previewService: 'web-preview', soak: '5m', autoPromote: true, scaleDownDelay: '30s' },
    });
  });

  it.each([
    ['steps beside blueGreen', `${BG}\nsteps: [{weight: 5}]`, 'spec.steps: steps and blueGreen exclude each other'],
    [
      'the strategy without its section',
      'strategy: blueGreen',
      'spec.blueGreen: strategy blueGreen needs the blueGreen',
    ],
    [
      'the section without the strategy',
      'steps: [{weight: 5}]\nblueGreen: {previewService: p}',
      'spec.blueGreen: blueGreen settings need strategy: blueGreen',
    ],
    ['a canary without steps', 'checks: []', 'spec.steps: at least one step is needed'],
    [
      'a preview Service name that is no DNS label',
      'strategy: blueGreen\nblueGreen: {previewService: Web_Preview}',
      'spec.blueGreen.previewService: expected a Service name',
    ],
    [
      'a scaleDownDelay past a day',
      'strategy: blueGreen\nblueGreen: {previewService: p, scaleDownDelay: 25h}',
      'spec.blueGreen.scaleDownDelay: must be at most 24h',
    ],
  ])('refuses %s', (_, rest, message) => {
    expect(messages(spec('replicas', rest)).join('\n')).toContain(message);
  });
});
