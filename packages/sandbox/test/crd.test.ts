import {
  ApiextensionsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../src/index.js';
import { causeFields, failureOf, namesOf, raw, testSandbox } from '../../../test/support/sandbox.js';
import { waitFor } from '../../../test/support/wait.js';

let sandbox: Sandbox;
let ext: ApiextensionsV1Api;
let custom: CustomObjectsApi;
let core: CoreV1Api;

const widgetCrd: V1CustomResourceDefinition = {
  metadata: { name: 'widgets.example.com' },
  spec: {
    group: 'example.com',
    scope: 'Namespaced',
    names: { plural: 'widgets', singular: 'widget', kind: 'Widget', shortNames: ['wd'] },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        subresources: {
          status: {},
          scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas' },
        },
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                required: ['size'],
                properties: {
                  size: { type: 'string', _enum: ['small', 'large'] },
                  replicas: { type: 'integer', minimum: 0, _default: 1 },
                  labels: { type: 'object', additionalProperties: { type: 'string' } },
                  free: { type: 'object', x_kubernetes_preserve_unknown_fields: true },
                },
              },
              status: { type: 'object', properties: { replicas: { type: 'integer' }, phase: { type: 'string' } } },
            },
          },
        },
      },
      {
        name: 'v2',
        served: true,
        storage: false,
        schema: { openAPIV3Schema: { type: 'object', x_kubernetes_preserve_unknown_fields: true } },
      },
    ],
  },
};
// client-node's typed schema names: `_enum`, `_default`, `x_kubernetes_…` are sent as `enum`, `default`, `x-kubernetes-…`
const W = { group: 'example.com', version: 'v1', plural: 'widgets', namespace: 'crd' };
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

beforeAll(async () => {
  sandbox = await testSandbox({ workloads: false });
  const kc = sandbox.kubeConfig();
  ext = kc.makeApiClient(ApiextensionsV1Api);
  custom = kc.makeApiClient(CustomObjectsApi);
  core = kc.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: 'crd' } } });
  await ext.createCustomResourceDefinition({ body: widgetCrd });
});
afterAll(async () => sandbox.close());

describe('CustomResourceDefinitions', () => {
  it('serves a new CRD at once, with Established status and discovery', async () => {
    const crd = await ext.readCustomResourceDefinition({ name: 'widgets.example.com' });
    expect(crd.status?.conditions?.find((c) => c.type === 'Established')?.status).toBe('True');
    expect(crd.status?.storedVersions).toEqual(['v1']);
    const discovery = await raw(sandbox, 'GET', '/apis/example.com/v1');
    expect(namesOf(discovery.body.resources)).toEqual(['widgets', 'widgets/status', 'widgets/scale']);
    const created = await custom.createNamespacedCustomObject({
      ...W,
      body: { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w1' }, spec: { size: 'small' } },
    });
    expect(created).toMatchObject({ metadata: { name: 'w1', generation: 1 }, spec: { size: 'small', replicas: 1 } });
    const list = await custom.listNamespacedCustomObject(W);
    expect(namesOf(list.items)).toEqual(['w1']);
    const v2 = await custom.getNamespacedCustomObject({ ...W, version: 'v2', name: 'w1' });
    expect(v2.apiVersion).toBe('example.com/v2');
  });

  it('rejects objects that violate the schema with 422 and field causes', async () => {
    const bad = await failureOf(
      custom.createNamespacedCustomObject({
        ...W,
        body: {
          apiVersion: 'example.com/v1',
          kind: 'Widget',
          metadata: { name: 'bad' },
          spec: { size: 'huge', replicas: -1, labels: { a: 1 } },
        },
      }),
    );
    expect(bad.code).toBe(422);
    expect(bad.body.reason).toBe('Invalid');
    expect(bad.body.details).toMatchObject({ name: 'bad', group: 'example.com', kind: 'Widget' });
    expect(causeFields(bad.body)).toEqual([
      'spec.labels.a FieldValueTypeInvalid',
      'spec.replicas FieldValueInvalid',
      'spec.size FieldValueNotSupported',
    ]);
    expect(bad.body.message).toContain('Widget.example.com "bad" is invalid');
    const missing = await failureOf(
      custom.createNamespacedCustomObject({
        ...W,
        body: { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'bad' }, spec: {} },
      }),
    );
    expect(missing.body.details.causes).toEqual([
      { reason: 'FieldValueRequired', message: 'Required value', field: 'spec.size' },
    ]);
    const typed = await failureOf(
      custom.createNamespacedCustomObject({
        ...W,
        body: {
          apiVersion: 'example.com/v1',
          kind: 'Widget',
          metadata: { name: 'bad' },
          spec: { size: 'small', replicas: 'two' },
        },
      }),
    );
    expect(typed.body.details.causes[0]).toMatchObject({ field: 'spec.replicas', reason: 'FieldValueTypeInvalid' });
    const badPatch = await failureOf(
      custom.patchNamespacedCustomObject({ ...W, name: 'w1', body: { spec: { size: 'medium' } } }, merge),
    );
    expect(badPatch.code).toBe(422);
  });

  it('prunes unknown fields, with a warning, and refuses them under fieldValidation=Strict', async () => {
    const body = JSON.stringify({
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      metadata: { name: 'pruned' },
      spec: { size: 'small', bogus: 1, free: { any: { thing: true } } },
    });
    const warned = await raw(sandbox, 'POST', '/apis/example.com/v1/namespaces/crd/widgets', { body });
    expect(warned.status).toBe(201);
    expect(warned.body.spec).toEqual({ size: 'small', replicas: 1, free: { any: { thing: true } } });
    expect(warned.headers.get('warning')).toContain('unknown field \\"spec.bogus\\"');
    const strict = await raw(sandbox, 'POST', '/apis/example.com/v1/namespaces/crd/widgets?fieldValidation=Strict', {
      body: body.replace('pruned', 'strict'),
    });
    expect(strict.status).toBe(400);
    expect(strict.body.message).toBe('strict decoding error: unknown field "spec.bogus"');
  });

  it('patches custom objects with merge and JSON patch, and refuses strategic merge (415)', async () => {
    const merged = await custom.patchNamespacedCustomObject(
      { ...W, name: 'w1', body: { spec: { size: 'large' } } },
      merge,
    );
    expect(merged.spec.size).toBe('large');
    expect(merged.metadata.generation).toBe(2);
    const json = await custom.patchNamespacedCustomObject(
      { ...W, name: 'w1', body: [{ op: 'add', path: '/spec/labels', value: { team: 'x' } }] },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    );
    expect(json.spec.labels).toEqual({ team: 'x' });
    const smp = await failureOf(
      custom.patchNamespacedCustomObject(
        { ...W, name: 'w1', body: { spec: { size: 'small' } } },
        setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
      ),
    );
    expect(smp.code).toBe(415);
  });

  it('writes status only through /status, and replicas through /scale', async () => {
    const before = await custom.getNamespacedCustomObject({ ...W, name: 'w1' });
    const ignored = await custom.patchNamespacedCustomObject(
      { ...W, name: 'w1', body: { status: { phase: 'Main' } } },
      merge,
    );
    expect(ignored.status).toBeUndefined();
    expect(ignored.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
    const status = await custom.patchNamespacedCustomObjectStatus(
      { ...W, name: 'w1', body: { spec: { size: 'small' }, status: { phase: 'Ready', replicas: 3 } } },
      merge,
    );
    expect(status.status).toEqual({ phase: 'Ready', replicas: 3 });
    expect(status.spec.size).toBe('large');
    expect(status.metadata.generation).toBe(before.metadata.generation);
    const badStatus = await failureOf(
      custom.patchNamespacedCustomObjectStatus({ ...W, name: 'w1', body: { status: { replicas: 'x' } } }, merge),
    );
    expect(badStatus.code).toBe(422);
    const scale = await custom.getNamespacedCustomObjectScale({ ...W, name: 'w1' });
    expect(scale).toMatchObject({
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      spec: { replicas: 1 },
      status: { replicas: 3 },
    });
    const scaled = await custom.patchNamespacedCustomObjectScale(
      { ...W, name: 'w1', body: { spec: { replicas: 5 } } },
      merge,
    );
    expect(scaled.spec.replicas).toBe(5);
    const after = await custom.getNamespacedCustomObject({ ...W, name: 'w1' });
    expect(after.spec.replicas).toBe(5);
    expect(after.metadata.generation).toBe(before.metadata.generation + 1);
  });

  it('honours finalizers: deletionTimestamp first, removal when the list empties', async () => {
    await custom.createNamespacedCustomObject({
      ...W,
      body: {
        apiVersion: 'example.com/v1',
        kind: 'Widget',
        metadata: { name: 'fin', finalizers: ['example.com/cleanup'] },
        spec: { size: 'small' },
      },
    });
    await custom.deleteNamespacedCustomObject({ ...W, name: 'fin' });
    const pending = await custom.getNamespacedCustomObject({ ...W, name: 'fin' });
    expect(pending.metadata.deletionTimestamp).toBeTruthy();
    expect(pending.metadata.finalizers).toEqual(['example.com/cleanup']);
    const added = await failureOf(
      custom.patchNamespacedCustomObject(
        { ...W, name: 'fin', body: { metadata: { finalizers: ['example.com/cleanup', 'more'] } } },
        merge,
      ),
    );
    expect(added.code).toBe(422);
    await custom.patchNamespacedCustomObject({ ...W, name: 'fin', body: { metadata: { finalizers: null } } }, merge);
    const gone = await failureOf(custom.getNamespacedCustomObject({ ...W, name: 'fin' }));
    expect(gone.code).toBe(404);
  });

  it('cascades deletion to dependents in the background, or orphans them', async () => {
    const owner = await custom.createNamespacedCustomObject({
      ...W,
      body: { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'owner' }, spec: { size: 'small' } },
    });
    const ref = { apiVersion: 'example.com/v1', kind: 'Widget', name: 'owner', uid: owner.metadata.uid as string };
    await core.createNamespacedConfigMap({
      namespace: 'crd',
      body: { metadata: { name: 'dep', ownerReferences: [ref] } },
    });
    await custom.deleteNamespacedCustomObject({ ...W, name: 'owner' });
    await waitFor(
      async () => (await failureOf(core.readNamespacedConfigMap({ name: 'dep', namespace: 'crd' }))).code === 404,
      5000,
      'the dependent to go',
    );
    const owner2 = await custom.createNamespacedCustomObject({
      ...W,
      body: { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'owner2' }, spec: { size: 'small' } },
    });
    await core.createNamespacedConfigMap({
      namespace: 'crd',
      body: {
        metadata: { name: 'orphan', ownerReferences: [{ ...ref, name: 'owner2', uid: owner2.metadata.uid as string }] },
      },
    });
    await custom.deleteNamespacedCustomObject({ ...W, name: 'owner2', propagationPolicy: 'Orphan' });
    await waitFor(
      async () => (await failureOf(custom.getNamespacedCustomObject({ ...W, name: 'owner2' }))).code === 404,
      5000,
      'the owner to go',
    );
    const orphan = await core.readNamespacedConfigMap({ name: 'orphan', namespace: 'crd' });
    expect(orphan.metadata?.ownerReferences).toBeUndefined();
  });

  it('serves cluster-scoped custom resources', async () => {
    await ext.createCustomResourceDefinition({
      body: {
        metadata: { name: 'realms.example.com' },
        spec: {
          group: 'example.com',
          scope: 'Cluster',
          names: { plural: 'realms', kind: 'Realm' },
          versions: [
            {
              name: 'v1',
              served: true,
              storage: true,
              schema: {
                openAPIV3Schema: {
                  type: 'object',
                  properties: { spec: { type: 'object', properties: { level: { type: 'integer' } } } },
                },
              },
            },
          ],
        },
      },
    });
    await custom.createClusterCustomObject({
      group: 'example.com',
      version: 'v1',
      plural: 'realms',
      body: { apiVersion: 'example.com/v1', kind: 'Realm', metadata: { name: 'r1' }, spec: { level: 3 } },
    });
    const r = await custom.getClusterCustomObject({
      group: 'example.com',
      version: 'v1',
      plural: 'realms',
      name: 'r1',
    });
    expect(r.metadata.namespace).toBeUndefined();
    const namespaced = await raw(sandbox, 'GET', '/apis/example.com/v1/namespaces/crd/realms');
    expect(namespaced.status).toBe(404);
  });

  it('rejects invalid CRDs and stops serving a deleted one', async () => {
    const bad = await failureOf(
      ext.createCustomResourceDefinition({
        body: {
          metadata: { name: 'wrong.example.com' },
          spec: {
            group: 'example.com',
            scope: 'Namespaced',
            names: { plural: 'gadgets', kind: 'Gadget' },
            versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object' } } }],
          },
        },
      }),
    );
    expect(bad.code).toBe(422);
    expect(bad.body.details.causes[0].field).toBe('metadata.name');
    const builtin = await failureOf(
      ext.createCustomResourceDefinition({
        body: {
          metadata: { name: 'deployments.apps' },
          spec: {
            group: 'apps',
            scope: 'Namespaced',
            names: { plural: 'deployments', kind: 'Deployment' },
            versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object' } } }],
          },
        },
      }),
    );
    expect(builtin.code).toBe(422);
    await ext.deleteCustomResourceDefinition({ name: 'realms.example.com' });
    const after = await raw(sandbox, 'GET', '/apis/example.com/v1/realms');
    expect(after.status).toBe(404);
  });
});
