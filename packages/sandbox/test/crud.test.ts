import {
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  EventsV1Api,
  PatchStrategy,
  setHeaderOptions,
  V1MicroTime,
  type V1ConfigMap,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../src/index.js';
import { failureOf, namesOf, raw, testSandbox, type Body } from '../../../test/support/sandbox.js';
import { waitFor } from '../../../test/support/wait.js';

let sandbox: Sandbox;
let core: CoreV1Api;
let apps: AppsV1Api;

beforeAll(async () => {
  sandbox = await testSandbox({ workloads: false });
  core = sandbox.kubeConfig().makeApiClient(CoreV1Api);
  apps = sandbox.kubeConfig().makeApiClient(AppsV1Api);
  await core.createNamespace({ body: { metadata: { name: 'crud' } } });
});
afterAll(async () => sandbox.close());

const cm = (name: string, data: Record<string, string> = { a: '1' }): V1ConfigMap => ({
  metadata: { name, labels: { app: 'crud' } },
  data,
});

describe('CRUD with the real client-node', () => {
  it('creates, reads, replaces and deletes with server-set metadata', async () => {
    const created = await core.createNamespacedConfigMap({ namespace: 'crud', body: cm('one') });
    expect(created.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.metadata?.creationTimestamp).toBeInstanceOf(Date);
    expect(Number(created.metadata?.resourceVersion)).toBeGreaterThan(0);
    const read = await core.readNamespacedConfigMap({ name: 'one', namespace: 'crud' });
    expect(read.data).toEqual({ a: '1' });
    const replaced = await core.replaceNamespacedConfigMap({
      name: 'one',
      namespace: 'crud',
      body: { ...read, data: { a: '2' } },
    });
    expect(Number(replaced.metadata?.resourceVersion)).toBeGreaterThan(Number(read.metadata?.resourceVersion));
    expect(replaced.metadata?.uid).toBe(created.metadata?.uid);
    await core.deleteNamespacedConfigMap({ name: 'one', namespace: 'crud' });
    const gone = await failureOf(core.readNamespacedConfigMap({ name: 'one', namespace: 'crud' }));
    expect(gone.code).toBe(404);
    expect(gone.body).toMatchObject({
      kind: 'Status',
      status: 'Failure',
      reason: 'NotFound',
      code: 404,
      message: 'configmaps "one" not found',
    });
  });

  it('answers a stale write with 409 Conflict and a duplicate create with 409 AlreadyExists', async () => {
    const first = await core.createNamespacedConfigMap({ namespace: 'crud', body: cm('stale') });
    await core.replaceNamespacedConfigMap({ name: 'stale', namespace: 'crud', body: { ...first, data: { a: 'new' } } });
    const stale = await failureOf(
      core.replaceNamespacedConfigMap({ name: 'stale', namespace: 'crud', body: { ...first, data: { a: 'old' } } }),
    );
    expect(stale.code).toBe(409);
    expect(stale.body.reason).toBe('Conflict');
    expect(stale.body.message).toContain('the object has been modified');
    const dup = await failureOf(core.createNamespacedConfigMap({ namespace: 'crud', body: cm('stale') }));
    expect(dup.code).toBe(409);
    expect(dup.body).toMatchObject({ reason: 'AlreadyExists', details: { name: 'stale', kind: 'configmaps' } });
  });

  it('lists with label and field selectors and returns the list resourceVersion', async () => {
    await core.createNamespacedConfigMap({
      namespace: 'crud',
      body: { metadata: { name: 'l1', labels: { tier: 'a' } } },
    });
    await core.createNamespacedConfigMap({
      namespace: 'crud',
      body: { metadata: { name: 'l2', labels: { tier: 'b' } } },
    });
    const byLabel = await core.listNamespacedConfigMap({ namespace: 'crud', labelSelector: 'tier in (a,b),tier!=b' });
    expect(byLabel.items.map((i) => i.metadata?.name)).toEqual(['l1']);
    const byField = await core.listConfigMapForAllNamespaces({
      fieldSelector: 'metadata.name=l2,metadata.namespace=crud',
    });
    expect(byField.items.map((i) => i.metadata?.name)).toEqual(['l2']);
    expect(Number(byField.metadata?.resourceVersion)).toBeGreaterThan(0);
    const bad = await failureOf(core.listNamespacedConfigMap({ namespace: 'crud', fieldSelector: 'data.a=1' }));
    expect(bad.code).toBe(400);
  });

  it('pages a list with limit and continue', async () => {
    for (const n of ['p1', 'p2', 'p3'])
      await core.createNamespacedConfigMap({
        namespace: 'crud',
        body: { metadata: { name: n, labels: { page: 'yes' } } },
      });
    const first = await core.listNamespacedConfigMap({ namespace: 'crud', labelSelector: 'page', limit: 2 });
    expect(first.items.map((i) => i.metadata?.name)).toEqual(['p1', 'p2']);
    expect(first.metadata?._continue).toBeTruthy();
    const rest = await core.listNamespacedConfigMap({
      namespace: 'crud',
      labelSelector: 'page',
      limit: 2,
      _continue: first.metadata?._continue,
    });
    expect(rest.items.map((i) => i.metadata?.name)).toEqual(['p3']);
    expect(rest.metadata?._continue).toBeFalsy();
  });

  it('merges patches: JSON merge, JSON patch and strategic merge', async () => {
    await core.createNamespacedConfigMap({ namespace: 'crud', body: cm('patched', { a: '1', b: '2' }) });
    const merged = await core.patchNamespacedConfigMap(
      { name: 'patched', namespace: 'crud', body: { data: { a: null, c: '3' } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(merged.data).toEqual({ b: '2', c: '3' });
    const json = await core.patchNamespacedConfigMap(
      {
        name: 'patched',
        namespace: 'crud',
        body: [
          { op: 'test', path: '/data/b', value: '2' },
          { op: 'replace', path: '/data/b', value: 'x' },
          { op: 'add', path: '/metadata/labels/extra', value: 'y' },
        ],
      },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    );
    expect(json.data?.b).toBe('x');
    expect(json.metadata?.labels).toEqual({ app: 'crud', extra: 'y' });
    const failedTest = await failureOf(
      core.patchNamespacedConfigMap(
        { name: 'patched', namespace: 'crud', body: [{ op: 'test', path: '/data/b', value: 'nope' }] },
        setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
      ),
    );
    expect(failedTest.code).toBe(422);
    const missing = await failureOf(
      core.patchNamespacedConfigMap(
        { name: 'patched', namespace: 'crud', body: [{ op: 'replace', path: '/data/zzz/q', value: 1 }] },
        setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
      ),
    );
    expect(missing.code).toBe(422);
  });

  it('strategic merge patch merges containers, ports, env and volumes by their keys', async () => {
    await apps.createNamespacedDeployment({
      namespace: 'crud',
      body: {
        metadata: { name: 'smp' },
        spec: {
          selector: { matchLabels: { app: 'smp' } },
          template: {
            metadata: { labels: { app: 'smp' } },
            spec: {
              containers: [
                {
                  name: 'app',
                  image: 'app:1',
                  ports: [{ containerPort: 80 }],
                  env: [
                    { name: 'A', value: '1' },
                    { name: 'B', value: '2' },
                  ],
                  volumeMounts: [{ name: 'v', mountPath: '/v' }],
                },
                { name: 'side', image: 'side:1' },
              ],
              volumes: [{ name: 'v', emptyDir: {} }],
            },
          },
        },
      },
    });
    const patched = await apps.patchNamespacedDeployment(
      {
        name: 'smp',
        namespace: 'crud',
        body: {
          spec: {
            template: {
              spec: {
                containers: [
                  {
                    name: 'app',
                    image: 'app:2',
                    ports: [{ containerPort: 81 }],
                    env: [
                      { name: 'B', value: '20' },
                      { name: 'C', value: '3' },
                      { name: 'A', $patch: 'delete' },
                    ],
                  },
                ],
                volumes: [{ name: 'w', emptyDir: {} }],
              },
            },
          },
        } as object,
      },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    const pod = patched.spec!.template.spec!;
    expect(pod.containers.map((c) => `${c.name}=${c.image}`)).toEqual(['app=app:2', 'side=side:1']);
    const app = pod.containers[0]!;
    expect(app.ports?.map((p) => p.containerPort)).toEqual([80, 81]);
    expect(app.env?.map((e) => `${e.name}=${e.value}`)).toEqual(['B=20', 'C=3']);
    expect(app.volumeMounts).toEqual([{ name: 'v', mountPath: '/v' }]);
    expect(pod.volumes?.map((v) => v.name)).toEqual(['v', 'w']);
    expect(patched.metadata?.generation).toBe(2);
  });

  it('serves /scale and keeps status out of main-resource writes', async () => {
    const scale = await apps.readNamespacedDeploymentScale({ name: 'smp', namespace: 'crud' });
    expect(scale.spec?.replicas).toBe(1);
    expect(scale.status?.selector).toBe('app=smp');
    const scaled = await apps.replaceNamespacedDeploymentScale({
      name: 'smp',
      namespace: 'crud',
      body: { ...scale, spec: { replicas: 4 } },
    });
    expect(scaled.spec?.replicas).toBe(4);
    const stale = await failureOf(
      apps.replaceNamespacedDeploymentScale({
        name: 'smp',
        namespace: 'crud',
        body: { ...scale, spec: { replicas: 5 } },
      }),
    );
    expect(stale.code).toBe(409);
    const patched = await apps.patchNamespacedDeploymentScale(
      { name: 'smp', namespace: 'crud', body: { spec: { replicas: 2 } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(patched.spec?.replicas).toBe(2);
    const d = await apps.readNamespacedDeployment({ name: 'smp', namespace: 'crud' });
    expect(d.spec?.replicas).toBe(2);
    const main = await apps.replaceNamespacedDeployment({
      name: 'smp',
      namespace: 'crud',
      body: { ...d, status: { replicas: 99 } },
    });
    expect(main.status?.replicas).toBeUndefined();
    const status = await apps.replaceNamespacedDeploymentStatus({
      name: 'smp',
      namespace: 'crud',
      body: { ...main, spec: { ...main.spec!, replicas: 7 }, status: { replicas: 99 } },
    });
    expect(status.status?.replicas).toBe(99);
    expect(status.spec?.replicas).toBe(2);
    expect(status.metadata?.generation).toBe(main.metadata?.generation);
  });

  it('rejects a bad request with a Status and never crashes', async () => {
    const malformed = await raw(sandbox, 'POST', '/api/v1/namespaces/crud/configmaps', {
      body: '{"metadata": {',
      contentType: 'application/json',
    });
    expect(malformed.status).toBe(400);
    expect(malformed.body).toMatchObject({ kind: 'Status', reason: 'BadRequest' });
    const yaml = await raw(sandbox, 'POST', '/api/v1/namespaces/crud/configmaps', {
      body: 'metadata: {name: from-yaml}\ndata: {k: v}\n',
      contentType: 'application/yaml',
    });
    expect(yaml.status).toBe(201);
    const badYaml = await raw(sandbox, 'POST', '/api/v1/namespaces/crud/configmaps', {
      body: 'metadata: [unclosed',
      contentType: 'application/yaml',
    });
    expect(badYaml.status).toBe(400);
    const wrongKind = await raw(sandbox, 'POST', '/api/v1/namespaces/crud/configmaps', {
      body: JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x' } }),
    });
    expect(wrongKind.status).toBe(400);
    const wrongVersion = await raw(sandbox, 'POST', '/apis/apps/v1/namespaces/crud/deployments', {
      body: JSON.stringify({ apiVersion: 'apps/v1beta1', kind: 'Deployment', metadata: { name: 'x' } }),
    });
    expect(wrongVersion.status).toBe(400);
    const unknown = await raw(sandbox, 'GET', '/apis/example.com/v1/widgets');
    expect(unknown.status).toBe(404);
    expect(unknown.body.kind).toBe('Status');
    const noName = await raw(sandbox, 'POST', '/api/v1/namespaces/crud/configmaps', { body: '{}' });
    expect(noName.status).toBe(422);
    expect(noName.body.details.causes[0]).toMatchObject({ reason: 'FieldValueRequired', field: 'metadata.name' });
    const badPatch = await raw(sandbox, 'PATCH', '/api/v1/namespaces/crud/configmaps/from-yaml', {
      body: 'not json',
      contentType: 'application/merge-patch+json',
    });
    expect(badPatch.status).toBe(400);
    const noNamespace = await raw(sandbox, 'POST', '/api/v1/namespaces/nowhere/configmaps', {
      body: JSON.stringify(cm('x')),
    });
    expect(noNamespace.status).toBe(404);
    expect(noNamespace.body.message).toBe('namespaces "nowhere" not found');
    // k8s\0 + runtime.Unknown{typeMeta: {apiVersion: 'v1', kind}}
    const envelope = (kind: string): Buffer =>
      Buffer.concat([
        Buffer.from('k8s\0', 'binary'),
        Buffer.from([
          0x0a,
          kind.length + 2 + 4,
          0x0a,
          2,
          ...Buffer.from('v1'),
          0x12,
          kind.length,
          ...Buffer.from(kind),
        ]),
      ]);
    const protoKind = await raw(sandbox, 'POST', '/apis/coordination.k8s.io/v1/namespaces/crud/leases', {
      body: envelope('Lease'),
      contentType: 'application/vnd.kubernetes.protobuf',
    });
    expect(protoKind.status).toBe(415);
    const protoBad = await raw(sandbox, 'POST', '/api/v1/namespaces/crud/configmaps', {
      body: 'not protobuf',
      contentType: 'application/vnd.kubernetes.protobuf',
    });
    expect(protoBad.status).toBe(400);
    const health = await raw(sandbox, 'GET', '/readyz');
    expect(health.status).toBe(200);
  });

  it('answers 401 with a Status to requests without the token', async () => {
    const none = await raw(sandbox, 'GET', '/api/v1/namespaces', { token: null });
    expect(none.status).toBe(401);
    expect(none.body).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
    const wrong = await raw(sandbox, 'GET', '/version', { token: 'not-the-token' });
    expect(wrong.status).toBe(401);
  });

  it('serves discovery for the REST mapping', async () => {
    const version = await raw(sandbox, 'GET', '/version');
    expect(version.body.major).toBe('1');
    const groups = await raw(sandbox, 'GET', '/apis');
    expect(namesOf(groups.body.groups)).toEqual(
      expect.arrayContaining([
        'apps',
        'apiextensions.k8s.io',
        'coordination.k8s.io',
        'events.k8s.io',
        'networking.k8s.io',
      ]),
    );
    const appsV1 = await raw(sandbox, 'GET', '/apis/apps/v1');
    expect(namesOf(appsV1.body.resources)).toEqual(
      expect.arrayContaining(['deployments', 'deployments/scale', 'deployments/status', 'replicasets']),
    );
    const core = await raw(sandbox, 'GET', '/api/v1');
    const pods = (core.body.resources as Body[]).find((r: Body) => r.name === 'pods');
    expect(pods).toMatchObject({
      namespaced: true,
      kind: 'Pod',
      verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
    });
  });
});

describe('namespaces', () => {
  it('terminates a namespace: Terminating, no new content, contents deleted, then gone', async () => {
    await core.createNamespace({ body: { metadata: { name: 'doomed' } } });
    await core.createNamespacedConfigMap({
      namespace: 'doomed',
      body: { metadata: { name: 'held', finalizers: ['example.com/hold'] } },
    });
    await core.createNamespacedSecret({
      namespace: 'doomed',
      body: { metadata: { name: 's' }, stringData: { k: 'v' } },
    });
    const ns = await core.readNamespace({ name: 'doomed' });
    expect(ns.metadata?.labels?.['kubernetes.io/metadata.name']).toBe('doomed');
    expect(ns.spec?.finalizers).toEqual(['kubernetes']);
    await core.deleteNamespace({ name: 'doomed' });
    const terminating = await core.readNamespace({ name: 'doomed' });
    expect(terminating.status?.phase).toBe('Terminating');
    const refused = await failureOf(
      core.createNamespacedConfigMap({ namespace: 'doomed', body: { metadata: { name: 'late' } } }),
    );
    expect(refused.code).toBe(403);
    await waitFor(
      async () => (await failureOf(core.readNamespacedSecret({ name: 's', namespace: 'doomed' }))).code === 404,
      5000,
      'the secret to go',
    );
    const held = await core.readNamespacedConfigMap({ name: 'held', namespace: 'doomed' });
    expect(held.metadata?.deletionTimestamp).toBeTruthy();
    expect((await core.readNamespace({ name: 'doomed' })).status?.phase).toBe('Terminating');
    await core.patchNamespacedConfigMap(
      { name: 'held', namespace: 'doomed', body: { metadata: { finalizers: null } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await waitFor(
      async () => (await failureOf(core.readNamespace({ name: 'doomed' }))).code === 404,
      5000,
      'the namespace to go',
    );
  });

  it('stores secrets from stringData as base64 data', async () => {
    const s = await core.createNamespacedSecret({
      namespace: 'crud',
      body: { metadata: { name: 'sec' }, stringData: { password: 'hunter2' } },
    });
    expect(s.type).toBe('Opaque');
    expect(s.data).toEqual({ password: Buffer.from('hunter2').toString('base64') });
    expect(s.stringData).toBeUndefined();
  });
});

describe('events', () => {
  it('shows the same Events through core/v1 and events.k8s.io/v1, with their field names', async () => {
    const events = sandbox.kubeConfig().makeApiClient(EventsV1Api);
    const created = await events.createNamespacedEvent({
      namespace: 'crud',
      body: {
        metadata: { name: 'ev1' },
        eventTime: new V1MicroTime('2026-11-26T10:00:00.000Z'),
        reason: 'Advanced',
        type: 'Normal',
        note: 'step 1 → 2',
        action: 'Advance',
        reportingController: 'kubestead.io/controller',
        reportingInstance: 'kubestead-0',
        regarding: { kind: 'Deployment', name: 'checkout', namespace: 'crud', apiVersion: 'apps/v1' },
      },
    });
    expect(created).toMatchObject({
      note: 'step 1 → 2',
      regarding: { name: 'checkout' },
      reportingController: 'kubestead.io/controller',
    });
    const asCore = await core.readNamespacedEvent({ name: 'ev1', namespace: 'crud' });
    expect(asCore).toMatchObject({
      message: 'step 1 → 2',
      involvedObject: { kind: 'Deployment', name: 'checkout' },
      reportingComponent: 'kubestead.io/controller',
      reason: 'Advanced',
    });
    const byField = await core.listNamespacedEvent({
      namespace: 'crud',
      fieldSelector: 'involvedObject.name=checkout',
    });
    expect(byField.items.map((e) => e.metadata.name)).toEqual(['ev1']);
    const byRegarding = await events.listNamespacedEvent({
      namespace: 'crud',
      fieldSelector: 'regarding.name=checkout',
    });
    expect(byRegarding.items.map((e) => e.note)).toEqual(['step 1 → 2']);
  });
});

describe('leases', () => {
  it('lets exactly one of two candidates take a Lease, by optimistic concurrency', async () => {
    const a = sandbox.client(CoordinationV1Api);
    const b = sandbox.client(CoordinationV1Api);
    const body = (holder: string): Parameters<CoordinationV1Api['createNamespacedLease']>[0]['body'] => ({
      metadata: { name: 'kubestead-leader' },
      spec: {
        holderIdentity: holder,
        leaseDurationSeconds: 15,
        acquireTime: new V1MicroTime(),
        renewTime: new V1MicroTime(),
      },
    });
    const results = await Promise.allSettled([
      a.createNamespacedLease({ namespace: 'crud', body: body('a') }),
      b.createNamespacedLease({ namespace: 'crud', body: body('b') }),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const lease = await a.readNamespacedLease({ name: 'kubestead-leader', namespace: 'crud' });
    // MicroTime, as the API server writes it: six fractional digits
    expect(String(lease.spec?.renewTime as unknown)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    const holder = lease.spec!.holderIdentity!;
    // both renew from the same read: the second write is stale
    const renew = (api: CoordinationV1Api, who: string) =>
      api.replaceNamespacedLease({
        name: 'kubestead-leader',
        namespace: 'crud',
        body: { ...lease, spec: { ...lease.spec, holderIdentity: who, renewTime: new V1MicroTime() } },
      });
    await renew(holder === 'a' ? a : b, holder);
    const stale = await failureOf(renew(holder === 'a' ? b : a, holder === 'a' ? 'b' : 'a'));
    expect(stale.code).toBe(409);
    expect((await a.readNamespacedLease({ name: 'kubestead-leader', namespace: 'crud' })).spec?.holderIdentity).toBe(
      holder,
    );
  });
});
