import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ApiextensionsV1Api, CustomObjectsApi, type V1CustomResourceDefinition } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { Sandbox } from '../src/index.js';
import { ROOT } from '../../../test/helpers.js';
import { kubectlFor, kubectlPresent } from '../../../test/support/kubectl.js';
import { causeFields, failureOf, raw, testSandbox } from '../../../test/support/sandbox.js';

/** CRD x-kubernetes-validations (CEL) enforced: the RolloutPolicy CRD's own rules, self and oldSelf, and rules the evaluator cannot run said once, at creation. */

let sandbox: Sandbox;
let objects: CustomObjectsApi;
const POLICIES = { group: 'kubestead.io', version: 'v1alpha1', plural: 'rolloutpolicies', namespace: 'default' };
const fixture = (name: string): Record<string, unknown> =>
  parse(readFileSync(resolve(ROOT, 'packages/sandbox/test/fixtures', name), 'utf8')) as Record<string, unknown>;

const crd = (
  name: string,
  rules: Array<Record<string, string>>,
  onField: Array<Record<string, string>> = [],
): Record<string, unknown> => ({
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `${name}s.example.com` },
  spec: {
    group: 'example.com',
    scope: 'Namespaced',
    names: { plural: `${name}s`, kind: name[0]!.toUpperCase() + name.slice(1) },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                'x-kubernetes-validations': rules,
                properties: {
                  size: { type: 'integer' },
                  owner: { type: 'string', 'x-kubernetes-validations': onField },
                  url: { type: 'string' },
                },
              },
            },
          },
        },
      },
    ],
  },
});

beforeAll(async () => {
  sandbox = await testSandbox({ workloads: false });
  await sandbox.client(ApiextensionsV1Api).createCustomResourceDefinition({
    body: parse(
      readFileSync(resolve(ROOT, 'crds/rolloutpolicies.kubestead.io.yaml'), 'utf8'),
    ) as V1CustomResourceDefinition,
  });
  objects = sandbox.client(CustomObjectsApi);
});
afterAll(async () => sandbox.close());

describe('the RolloutPolicy CRD rules', () => {
  it.each([
    ['policy-step-weight-and-pause.yaml', 'spec.steps[1]', 'a step has exactly one of weight, pause, match or mirror'],
    ['policy-check-unbounded.yaml', 'spec.checks[0]', 'a check needs at least one bound: min or max'],
    ['policy-check-min-above-max.yaml', 'spec.checks[0]', 'min must not be above max'],
  ])('refuses %s with 422 and the rule message', async (file, field, message) => {
    const failed = await failureOf(objects.createNamespacedCustomObject({ ...POLICIES, body: fixture(file) }));
    expect(failed.code).toBe(422);
    expect(causeFields(failed.body)).toEqual([`${field} FieldValueInvalid`]);
    expect(failed.body.message).toContain(`${field}: Invalid value: "object": ${message}`);
  });

  it('accepts the example policies that keep the rules', async () => {
    const policy = parse(readFileSync(resolve(ROOT, 'fixtures/policies/api-minimal.yaml'), 'utf8')) as Record<
      string,
      unknown
    >;
    await expect(objects.createNamespacedCustomObject({ ...POLICIES, body: policy })).resolves.toBeDefined();
  });

  it.skipIf(!kubectlPresent)('kubectl apply shows the rule message', async () => {
    const kubectl = await kubectlFor(sandbox);
    try {
      const out = await kubectl.run(
        'apply',
        '-f',
        resolve(ROOT, 'packages/sandbox/test/fixtures/policy-step-weight-and-pause.yaml'),
      );
      expect(out.code).not.toBe(0);
      expect(out.stderr).toContain(
        'spec.steps[1]: Invalid value: "object": a step has exactly one of weight, pause, match or mirror',
      );
    } finally {
      await kubectl.close();
    }
  });
});

describe('self and oldSelf', () => {
  beforeAll(async () => {
    const body = crd(
      'widget',
      [{ rule: 'self.size <= 10', message: 'size is at most 10' }],
      [{ rule: 'self == oldSelf', message: 'owner is immutable' }],
    );
    const created = await raw(sandbox, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {
      body: JSON.stringify(body),
      contentType: 'application/json',
    });
    expect(created.status).toBe(201);
  });
  const widgets = { group: 'example.com', version: 'v1', plural: 'widgets', namespace: 'default' };
  const widget = (spec: Record<string, unknown>, resourceVersion?: string): Record<string, unknown> => ({
    apiVersion: 'example.com/v1',
    kind: 'Widget',
    metadata: { name: 'w', ...(resourceVersion ? { resourceVersion } : {}) },
    spec,
  });

  it('checks self on create (integers as ints) and oldSelf only on update', async () => {
    const big = await failureOf(
      objects.createNamespacedCustomObject({ ...widgets, body: widget({ size: 11, owner: 'a' }) }),
    );
    expect(big.code).toBe(422);
    expect(big.body.message).toBe(
      'Widget.example.com "w" is invalid: spec: Invalid value: "object": size is at most 10',
    );
    const created = (await objects.createNamespacedCustomObject({
      ...widgets,
      body: widget({ size: 3, owner: 'a' }),
    })) as { metadata: { resourceVersion: string } };
    const changed = await failureOf(
      objects.replaceNamespacedCustomObject({
        ...widgets,
        name: 'w',
        body: widget({ size: 3, owner: 'b' }, created.metadata.resourceVersion),
      }),
    );
    expect(changed.code).toBe(422);
    expect(changed.body.message).toBe(
      'Widget.example.com "w" is invalid: spec.owner: Invalid value: "string": owner is immutable',
    );
    await expect(
      objects.replaceNamespacedCustomObject({
        ...widgets,
        name: 'w',
        body: widget({ size: 4, owner: 'a' }, created.metadata.resourceVersion),
      }),
    ).resolves.toBeDefined();
  });
});

describe('rules the evaluator cannot run, and rules that do not compile', () => {
  it('reports a rule using a Kubernetes CEL library function once, at CRD creation: Warning and condition', async () => {
    const body = crd('link', [{ rule: 'isURL(self.url)', message: 'url must be a URL' }]);
    const created = await raw(sandbox, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {
      body: JSON.stringify(body),
      contentType: 'application/json',
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('warning')).toContain(
      'rule \\"isURL(self.url)\\" uses isURL, which the sandbox\'s CEL evaluator lacks: NOT ENFORCED by the sandbox',
    );
    const condition = (created.body.status.conditions as Array<{ type: string; message: string }>).find(
      (c) => c.type === 'SandboxValidationNotEnforced',
    );
    expect(condition?.message).toContain('isURL');
    const link = await raw(sandbox, 'POST', '/apis/example.com/v1/namespaces/default/links', {
      body: JSON.stringify({
        apiVersion: 'example.com/v1',
        kind: 'Link',
        metadata: { name: 'l' },
        spec: { url: 'not a url' },
      }),
      contentType: 'application/json',
    });
    expect(link.status).toBe(201);
  });

  it('refuses a CRD whose rule does not compile (422)', async () => {
    const failed = await raw(sandbox, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {
      body: JSON.stringify(crd('broken', [{ rule: 'self.size +' }])),
      contentType: 'application/json',
    });
    expect(failed.status).toBe(422);
    expect(failed.body.message).toContain('x-kubernetes-validations: Invalid value: "self.size +": compilation failed');
  });
});
