import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flag } from '../src/handlers.js';
import type { Sandbox } from '../src/index.js';
import { raw, testSandbox } from '../../../test/support/sandbox.js';

/** What a real API server does that clients other than ours (the Python client's e2e suite) rely on. */

let sandbox: Sandbox;
let core: CoreV1Api;

beforeAll(async () => {
  sandbox = await testSandbox();
  core = sandbox.client(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: 'real' } } });
});
afterAll(async () => sandbox.close());

describe('boolean query parameters, as the API server converts them', () => {
  it.each([
    ['watch=True', true],
    ['watch=true', true],
    ['watch=TRUE', true],
    ['watch=1', true],
    ['watch=t', true],
    ['watch=yes', true],
    ['watch=', true],
    ['watch=false', false],
    ['watch=False', false],
    ['watch=FALSE', false],
    ['watch=0', false],
    ['other=1', false],
    ['watch=0&watch=1', false],
  ] as const)('%s → %s', (query, expected) => {
    expect(flag(new URLSearchParams(query), 'watch')).toBe(expected);
  });

  it('serves watch=True (the Python client spelling) as a watch, from the resourceVersion given', async () => {
    await core.createNamespacedConfigMap({ namespace: 'real', body: { metadata: { name: 'before' } } });
    const list = await core.listNamespacedConfigMap({ namespace: 'real' });
    await core.createNamespacedConfigMap({ namespace: 'real', body: { metadata: { name: 'after' } } });
    const rv = list.metadata?.resourceVersion ?? '';
    const res = await raw(
      sandbox,
      'GET',
      `/api/v1/namespaces/real/configmaps?watch=True&resourceVersion=${rv}&timeoutSeconds=1`,
    );
    expect(res.status).toBe(200);
    // one event is one line, which raw() parses as JSON; more would be several lines of text
    const text = typeof res.body === 'string' ? res.body : JSON.stringify(res.body);
    const events = text
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as { type: string; object: { metadata: { name: string } } });
    expect(events.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['ADDED after']);
    const listed = await raw(sandbox, 'GET', '/api/v1/namespaces/real/configmaps?watch=False');
    expect(listed.body.kind).toBe('ConfigMapList');
  });
});
