import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flag } from '../src/handlers.js';
import type { Sandbox } from '../src/index.js';
import { raw, testSandbox } from '../../../test/support/sandbox.js';
import { waitFor } from '../../../test/support/wait.js';

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
    const events = res.text
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as { type: string; object: { metadata: { name: string } } });
    expect(events.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['ADDED after']);
    const listed = await raw(sandbox, 'GET', '/api/v1/namespaces/real/configmaps?watch=False');
    expect(listed.body.kind).toBe('ConfigMapList');
  });
});

describe('Status bodies, encoded as the API server encodes them', () => {
  const post = (path: string, body: unknown) =>
    raw(sandbox, 'POST', path, { body: JSON.stringify(body), contentType: 'application/json' });
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'twice' },
    spec: {
      selector: { matchLabels: { app: 'twice' } },
      template: { metadata: { labels: { app: 'twice' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } },
    },
  };

  it('AlreadyExists: the key order, no empty group for the core group, a closing newline', async () => {
    const service = { metadata: { name: 'twice' }, spec: { ports: [{ port: 80 }] } };
    expect((await post('/api/v1/namespaces/real/services', service)).status).toBe(201);
    const again = await post('/api/v1/namespaces/real/services', service);
    expect(again.text).toBe(
      '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"services \\"twice\\" already ' +
        'exists","reason":"AlreadyExists","details":{"name":"twice","kind":"services"},"code":409}\n',
    );
    expect((await post('/apis/apps/v1/namespaces/real/deployments', deployment)).status).toBe(201);
    const dup = await post('/apis/apps/v1/namespaces/real/deployments', deployment);
    expect(dup.text).toBe(
      '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"deployments.apps \\"twice\\" ' +
        'already exists","reason":"AlreadyExists","details":{"name":"twice","group":"apps","kind":"deployments"},' +
        '"code":409}\n',
    );
  });

  it('Conflict on a stale write and Invalid with causes keep the same order', async () => {
    const current = await raw(sandbox, 'GET', '/apis/apps/v1/namespaces/real/deployments/twice');
    const stale = { ...current.body, metadata: { ...current.body.metadata, resourceVersion: '1' } };
    const res = await raw(sandbox, 'PUT', '/apis/apps/v1/namespaces/real/deployments/twice', {
      body: JSON.stringify(stale),
      contentType: 'application/json',
    });
    expect(res.text).toBe(
      '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Operation cannot be fulfilled ' +
        'on deployments.apps \\"twice\\": the object has been modified; please apply your changes to the latest ' +
        'version and try again","reason":"Conflict","details":{"name":"twice","group":"apps","kind":"deployments"},' +
        '"code":409}\n',
    );
    const invalid = await post('/api/v1/namespaces/real/configmaps', { metadata: { name: 'Bad_Name' } });
    const status = JSON.parse(invalid.text) as { details: { causes: object[] } };
    expect(Object.keys(status)).toEqual([
      'kind',
      'apiVersion',
      'metadata',
      'status',
      'message',
      'reason',
      'details',
      'code',
    ]);
    expect(Object.keys(status.details)).toEqual(['name', 'kind', 'causes']);
    expect(Object.keys(status.details.causes[0] ?? {})).toEqual(['reason', 'message', 'field']);
  });
});

describe('Services', () => {
  it('come back with status.loadBalancer {} from create, read, patch and a status write', async () => {
    const created = await core.createNamespacedService({
      namespace: 'real',
      body: { metadata: { name: 'lb' }, spec: { ports: [{ port: 80 }] } },
    });
    expect(created.status).toEqual({ loadBalancer: {} });
    expect((await core.readNamespacedService({ name: 'lb', namespace: 'real' })).status).toEqual({ loadBalancer: {} });
    const status = await raw(sandbox, 'PUT', '/api/v1/namespaces/real/services/lb/status', {
      body: JSON.stringify({ ...created, status: {} }),
      contentType: 'application/json',
    });
    expect(status.body.status).toEqual({ loadBalancer: {} });
  });
});

describe('the default ServiceAccount', () => {
  it('is in every namespace: the initial ones, a new one, and again after it is deleted', async () => {
    const names = async (namespace: string) =>
      (await core.listNamespacedServiceAccount({ namespace })).items.map((sa) => sa.metadata?.name);
    for (const namespace of ['default', 'kube-system', 'kube-public', 'kube-node-lease'])
      expect(await names(namespace)).toEqual(['default']);
    await core.createNamespace({ body: { metadata: { name: 'fresh' } } });
    await waitFor(async () => (await names('fresh')).includes('default'), 5000, 'the default ServiceAccount');
    await core.deleteNamespacedServiceAccount({ name: 'default', namespace: 'fresh' });
    await waitFor(async () => (await names('fresh')).includes('default'), 5000, 'the default ServiceAccount again');
  });
});

describe('bare pods', () => {
  const pod = (name: string, image = 'busybox') => ({
    metadata: { name, labels: { app: name } },
    spec: { containers: [{ name: 'main', image, resources: { limits: { cpu: '100m', memory: '64Mi' } } }] },
  });

  it('are created Pending, bound to the node, started and made Ready by the simulated kubelet', async () => {
    const created = await core.createNamespacedPod({ namespace: 'real', body: pod('bare') });
    expect(created.status).toEqual({ phase: 'Pending', qosClass: 'Guaranteed' });
    expect(created.spec?.nodeName).toBeUndefined();
    expect(created.spec).toMatchObject({
      serviceAccountName: 'default',
      serviceAccount: 'default',
      enableServiceLinks: true,
      restartPolicy: 'Always',
      priority: 0,
    });
    expect(created.spec?.containers[0]?.resources?.requests).toEqual({ cpu: '100m', memory: '64Mi' });
    expect(created.spec?.tolerations?.map((t) => t.key)).toEqual([
      'node.kubernetes.io/not-ready',
      'node.kubernetes.io/unreachable',
    ]);
    const running = await waitFor(
      async () => {
        const p = await core.readNamespacedPod({ name: 'bare', namespace: 'real' });
        return p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') && p;
      },
      5000,
      'the pod Ready',
    );
    expect(running.status?.phase).toBe('Running');
    expect(running.spec?.nodeName).toBe('sandbox-node');
    expect(running.status?.podIP).toMatch(/^10\.244\./);
  });

  it('behave by image tag, and end after their grace period when deleted', async () => {
    await core.createNamespacedPod({ namespace: 'real', body: pod('crashing', 'example/app:crashloop') });
    await waitFor(
      async () => {
        const p = await core.readNamespacedPod({ name: 'crashing', namespace: 'real' });
        return (p.status?.containerStatuses?.[0]?.restartCount ?? 0) > 0;
      },
      5000,
      'a restart',
    );
    const deleted = await core.deleteNamespacedPod({ name: 'crashing', namespace: 'real' });
    expect(deleted.metadata?.deletionTimestamp).toBeDefined();
    await waitFor(
      async () =>
        !(await core.listNamespacedPod({ namespace: 'real' })).items.some((p) => p.metadata?.name === 'crashing'),
      5000,
      'the pod gone',
    );
  });

  it('may change labels and images, not the rest of the spec', async () => {
    await core.createNamespacedPod({ namespace: 'real', body: pod('mutable') });
    const patch = (body: unknown) =>
      raw(sandbox, 'PATCH', '/api/v1/namespaces/real/pods/mutable', {
        body: JSON.stringify(body),
        contentType: 'application/strategic-merge-patch+json',
      });
    const labelled = await patch({ metadata: { labels: { extra: 'yes' } } });
    expect(labelled.status).toBe(200);
    const image = await patch({ spec: { containers: [{ name: 'main', image: 'busybox:2' }] } });
    expect(image.status, image.text).toBe(200);
    expect(image.body.spec.containers[0]).toMatchObject({ image: 'busybox:2', resources: { limits: { cpu: '100m' } } });
    const refused = await patch({ spec: { restartPolicy: 'Never' } });
    expect(refused.status).toBe(422);
    expect(refused.body.message).toContain(
      'Pod "mutable" is invalid: spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`',
    );
  });

  it('need the ServiceAccount they run as (the ServiceAccount admission plugin)', async () => {
    const res = await raw(sandbox, 'POST', '/api/v1/namespaces/real/pods', {
      body: JSON.stringify({ ...pod('nobody'), spec: { ...pod('nobody').spec, serviceAccountName: 'robot' } }),
      contentType: 'application/json',
    });
    expect(res.status).toBe(403);
    expect(res.body.message).toBe(
      'pods "nobody" is forbidden: error looking up service account real/robot: serviceaccount "robot" not found',
    );
  });

  it('refuse exec, logs, attach and port-forward with a clear Status (no containers run)', async () => {
    for (const sub of ['exec?command=ls&stdout=true', 'log', 'portforward?ports=80', 'attach']) {
      const res = await raw(sandbox, 'GET', `/api/v1/namespaces/real/pods/bare/${sub}`);
      expect(res.status, sub).toBe(400);
      expect(res.body.message).toContain('the sandbox simulates pods and runs no containers');
    }
    expect((await raw(sandbox, 'GET', '/api/v1/namespaces/real/pods/missing/log')).status).toBe(404);
  });
});

describe('the node', () => {
  it('is listed, labelled, Ready, and is where the pods run', async () => {
    const nodes = (await core.listNode()).items;
    expect(nodes.map((n) => n.metadata?.name)).toEqual(['sandbox-node']);
    const node = await core.readNode({ name: 'sandbox-node' });
    expect(node.metadata?.labels).toMatchObject({
      'kubernetes.io/hostname': 'sandbox-node',
      'kubernetes.io/os': 'linux',
    });
    expect(node.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'True',
      reason: 'KubeletReady',
    });
    const pod = await core.readNamespacedPod({ name: 'bare', namespace: 'real' });
    expect(pod.spec?.nodeName).toBe(node.metadata?.name);
    expect(pod.status?.hostIP).toBe(node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address);
  });
});
