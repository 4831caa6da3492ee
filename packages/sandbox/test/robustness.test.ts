import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../src/index.js';
import { raw, testSandbox } from '../../../test/support/sandbox.js';
import { waitFor } from '../../../test/support/wait.js';

let sandbox: Sandbox;
const errors: unknown[] = [];

beforeAll(async () => {
  sandbox = await testSandbox({ onError: (e) => errors.push(e) });
  await raw(sandbox, 'POST', '/api/v1/namespaces', { body: JSON.stringify({ metadata: { name: 'r' } }) });
  await raw(sandbox, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {
    body: JSON.stringify({
      metadata: { name: 'things.example.com' },
      spec: {
        group: 'example.com',
        scope: 'Namespaced',
        names: { plural: 'things', kind: 'Thing' },
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            subresources: { status: {}, scale: { specReplicasPath: '.spec.n', statusReplicasPath: '.status.n' } },
            schema: {
              openAPIV3Schema: {
                type: 'object',
                properties: {
                  spec: {
                    type: 'object',
                    properties: { n: { type: 'integer' }, tags: { type: 'array', items: { type: 'string' } } },
                  },
                  status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
                },
              },
            },
          },
        ],
      },
    }),
  });
  for (const [path, body] of [
    ['/api/v1/namespaces/r/configmaps', { metadata: { name: 'x' } }],
    [
      '/apis/apps/v1/namespaces/r/deployments',
      {
        metadata: { name: 'd' },
        spec: {
          selector: { matchLabels: { app: 'd' } },
          template: { metadata: { labels: { app: 'd' } }, spec: { containers: [{ name: 'a', image: 'a' }] } },
        },
      },
    ],
    [
      '/apis/example.com/v1/namespaces/r/things',
      { apiVersion: 'example.com/v1', kind: 'Thing', metadata: { name: 't' }, spec: { n: 1 } },
    ],
  ] as const)
    await raw(sandbox, 'POST', path, { body: JSON.stringify(body) });
});
afterAll(async () => sandbox.close());

const targets = [
  '/api/v1/namespaces/r/configmaps',
  '/api/v1/namespaces/r/configmaps/x',
  '/apis/apps/v1/namespaces/r/deployments',
  '/apis/apps/v1/namespaces/r/deployments/d',
  '/apis/apps/v1/namespaces/r/deployments/d/scale',
  '/apis/apps/v1/namespaces/r/deployments/d/status',
  '/apis/example.com/v1/namespaces/r/things',
  '/apis/example.com/v1/namespaces/r/things/t',
  '/apis/example.com/v1/namespaces/r/things/t/status',
  '/apis/example.com/v1/namespaces/r/things/t/scale',
];
const contentTypes = [
  'application/json',
  'application/merge-patch+json',
  'application/json-patch+json',
  'application/strategic-merge-patch+json',
  'application/yaml',
  'text/plain',
];

/** Bodies shaped like objects, with metadata and spec of arbitrary JSON. */
const objectish = fc.record(
  {
    apiVersion: fc.oneof(fc.constant(undefined), fc.constantFrom('v1', 'apps/v1', 'example.com/v1'), fc.jsonValue()),
    metadata: fc.oneof(
      fc.jsonValue(),
      fc.record(
        {
          name: fc.oneof(fc.constantFrom('x', 'd', 't'), fc.jsonValue()),
          labels: fc.jsonValue(),
          finalizers: fc.jsonValue(),
          ownerReferences: fc.jsonValue(),
          resourceVersion: fc.jsonValue(),
        },
        { requiredKeys: [] },
      ),
    ),
    spec: fc.jsonValue(),
    status: fc.jsonValue(),
    data: fc.jsonValue(),
  },
  { requiredKeys: [] },
);

describe('bad input never crashes the sandbox', () => {
  it('answers arbitrary bodies on every verb with a Status, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('POST', 'PUT', 'PATCH', 'DELETE', 'GET'),
        fc.constantFrom(...targets),
        fc.constantFrom(...contentTypes),
        fc.oneof(
          objectish.map((o) => JSON.stringify(o)),
          fc.jsonValue().map((v) => JSON.stringify(v)),
          fc.string(),
        ),
        async (method, path, contentType, body) => {
          const res = await raw(sandbox, method, path, { body, contentType });
          expect(
            res.status,
            `${method} ${path} ${contentType} ${body.slice(0, 200)} → ${JSON.stringify(res.body).slice(0, 300)}`,
          ).toBeLessThan(500);
          if (res.status >= 400) expect(res.body.kind).toBe('Status');
        },
      ),
      { numRuns: 300, seed: 20261126 },
    );
    expect(errors).toEqual([]);
  });

  it('answers arbitrary paths and queries with a Status', async () => {
    await fc.assert(
      fc.asyncProperty(fc.webPath(), fc.webQueryParameters(), async (path, query) => {
        const res = await raw(sandbox, 'GET', `${path.startsWith('/') ? '' : '/'}${path}?${query}`);
        expect(res.status).toBeLessThan(500);
      }),
      { numRuns: 150, seed: 7 },
    );
    for (const q of [
      'labelSelector=a%20in%20(',
      'fieldSelector=spec.x%3D1',
      'watch=1&resourceVersion=x',
      'limit=abc',
      'continue=%%%',
      'timeoutSeconds=-1&watch=1',
    ]) {
      const res = await raw(sandbox, 'GET', `/api/v1/namespaces/r/configmaps?${q}`);
      expect(res.status, q).toBe(400);
      expect(res.body.kind).toBe('Status');
    }
  });

  it('refuses bodies nested too deeply with 400', async () => {
    const deep = `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`;
    const res = await raw(sandbox, 'POST', '/api/v1/namespaces/r/configmaps', {
      body: `{"metadata":{"name":"deep"},"data":${deep}}`,
    });
    expect(res.status).toBe(400);
    expect(res.body.message).toContain('exceeded max depth');
  });

  it('still serves and runs its controllers afterwards', async () => {
    await raw(sandbox, 'POST', '/apis/apps/v1/namespaces/r/deployments', {
      body: JSON.stringify({
        metadata: { name: 'after' },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: 'after' } },
          template: { metadata: { labels: { app: 'after' } }, spec: { containers: [{ name: 'a', image: 'a' }] } },
        },
      }),
    });
    await waitFor(
      async () =>
        (await raw(sandbox, 'GET', '/apis/apps/v1/namespaces/r/deployments/after')).body.status?.readyReplicas === 2,
      8000,
      'a ready Deployment',
    );
    expect(errors).toEqual([]);
  });
});
