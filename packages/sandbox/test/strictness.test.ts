import {
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  V1MicroTime,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../src/index.js';
import { kubectlFor, kubectlPresent, type Kubectl } from '../../../test/support/kubectl.js';
import { causeFields, deploymentBody, failureOf, raw, testSandbox } from '../../../test/support/sandbox.js';
import { waitFor } from '../../../test/support/wait.js';

/** What a real API server refuses and the sandbox once accepted: one test per row, status code and message. */

let sandbox: Sandbox;
let core: CoreV1Api;
let apps: AppsV1Api;
let custom: CustomObjectsApi;
const NS = 'strict';

const CRD = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'gadgets.example.com' },
  spec: {
    group: 'example.com',
    scope: 'Namespaced',
    names: { plural: 'gadgets', kind: 'Gadget' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        subresources: { status: {} },
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
              status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
            },
          },
        },
      },
    ],
  },
};

const deployment = deploymentBody;

beforeAll(async () => {
  sandbox = await testSandbox({ workloads: false });
  core = sandbox.client(CoreV1Api);
  apps = sandbox.client(AppsV1Api);
  custom = sandbox.client(CustomObjectsApi);
  await core.createNamespace({ body: { metadata: { name: NS } } });
  await core.createNamespace({ body: { metadata: { name: 'elsewhere' } } });
  await raw(sandbox, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {
    body: JSON.stringify(CRD),
    contentType: 'application/json',
  });
});
afterAll(async () => sandbox.close());

describe('writes a real API server refuses', () => {
  it('create with metadata.resourceVersion: 500 as etcd answers', async () => {
    const read = await core.createNamespacedConfigMap({
      namespace: NS,
      body: { metadata: { name: 'original' }, data: { a: '1' } },
    });
    const copy = { ...read, metadata: { ...read.metadata, name: 'copy', uid: undefined } };
    const failed = await failureOf(core.createNamespacedConfigMap({ namespace: NS, body: copy }));
    expect(failed.code).toBe(500);
    expect(failed.body).toMatchObject({
      reason: 'InternalError',
      message: 'Internal error occurred: resourceVersion should not be set on objects to be created',
    });
  });

  it('PUT of a custom resource or its status without resourceVersion: 422 must be specified for an update', async () => {
    const created = (await custom.createNamespacedCustomObject({
      group: 'example.com',
      version: 'v1',
      namespace: NS,
      plural: 'gadgets',
      body: { apiVersion: 'example.com/v1', kind: 'Gadget', metadata: { name: 'g1' }, spec: { a: 1 } },
    })) as { metadata: Record<string, unknown> };
    const body = {
      apiVersion: 'example.com/v1',
      kind: 'Gadget',
      metadata: { name: 'g1' },
      spec: { a: 2 },
      status: { ok: true },
    };
    const main = await failureOf(
      custom.replaceNamespacedCustomObject({
        group: 'example.com',
        version: 'v1',
        namespace: NS,
        plural: 'gadgets',
        name: 'g1',
        body,
      }),
    );
    expect(main.code).toBe(422);
    expect(main.body.message).toBe(
      'Gadget.example.com "g1" is invalid: metadata.resourceVersion: Invalid value: 0x0: must be specified for an update',
    );
    const status = await failureOf(
      custom.replaceNamespacedCustomObjectStatus({
        group: 'example.com',
        version: 'v1',
        namespace: NS,
        plural: 'gadgets',
        name: 'g1',
        body,
      }),
    );
    expect(status.code).toBe(422);
    expect(causeFields(status.body)).toEqual(['metadata.resourceVersion FieldValueInvalid']);
    const withRv = { ...body, metadata: { name: 'g1', resourceVersion: created.metadata.resourceVersion } };
    await expect(
      custom.replaceNamespacedCustomObject({
        group: 'example.com',
        version: 'v1',
        namespace: NS,
        plural: 'gadgets',
        name: 'g1',
        body: withRv,
      }),
    ).resolves.toBeDefined();
    // built-in kinds allow an unconditional update, as the API server does
    await expect(
      core.replaceNamespacedConfigMap({
        name: 'original',
        namespace: NS,
        body: { metadata: { name: 'original' }, data: { a: '2' } },
      }),
    ).resolves.toBeDefined();
  });

  it('a ConfigMap or Secret over 1 MiB of data: 422 Too long', async () => {
    const big = 'x'.repeat(1024 * 1024 + 1);
    const cm = await failureOf(
      core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'big' }, data: { big } } }),
    );
    expect(cm.code).toBe(422);
    expect(cm.body.message).toBe('ConfigMap "big" is invalid: []: Too long: must have at most 1048576 bytes');
    const secret = await failureOf(
      core.createNamespacedSecret({
        namespace: NS,
        body: { metadata: { name: 'big' }, data: { big: Buffer.from(big).toString('base64').slice(0, 1_500_000) } },
      }),
    );
    expect(secret.code).toBe(422);
    expect(secret.body.message).toBe('Secret "big" is invalid: data: Too long: must have at most 1048576 bytes');
  });

  it('any object between 1.5 MiB and 3 MiB: 500 etcdserver: request is too large; above 3 MiB: 413', async () => {
    const body = {
      apiVersion: 'example.com/v1',
      kind: 'Gadget',
      metadata: { name: 'huge' },
      spec: { blob: 'y'.repeat(2 * 1024 * 1024) },
    };
    const failed = await failureOf(
      custom.createNamespacedCustomObject({
        group: 'example.com',
        version: 'v1',
        namespace: NS,
        plural: 'gadgets',
        body,
      }),
    );
    expect(failed.code).toBe(500);
    expect(failed.body).toMatchObject({ reason: 'InternalError', message: 'etcdserver: request is too large' });
    const over = await raw(sandbox, 'POST', `/apis/example.com/v1/namespaces/${NS}/gadgets`, {
      body: JSON.stringify({ ...body, spec: { blob: 'z'.repeat(3 * 1024 * 1024) } }),
      contentType: 'application/json',
    });
    expect(over.status).toBe(413);
  });

  it('annotations over 256 KiB in total: 422', async () => {
    const annotations = { a: 'x'.repeat(200 * 1024), b: 'y'.repeat(60 * 1024) };
    const failed = await failureOf(
      core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'annotated', annotations } } }),
    );
    expect(failed.code).toBe(422);
    expect(failed.body.message).toBe(
      'ConfigMap "annotated" is invalid: metadata.annotations: Too long: must have at most 262144 bytes',
    );
  });

  it('a Lease renewTime with milliseconds or no fraction: 400, MicroTime needs six digits', async () => {
    const leases = sandbox.client(CoordinationV1Api);
    const millis = await failureOf(
      leases.createNamespacedLease({
        namespace: NS,
        body: {
          metadata: { name: 'l1' },
          spec: { holderIdentity: 'me', renewTime: new Date('2026-11-30T10:00:00.123Z') },
        },
      }),
    );
    expect(millis.code).toBe(400);
    expect(millis.body.message).toBe(
      'Lease in version "v1" cannot be handled as a Lease: parsing time "2026-11-30T10:00:00.123Z" as "2006-01-02T15:04:05.000000Z07:00": cannot parse ".123Z" as ".000000"',
    );
    const whole = await raw(sandbox, 'POST', `/apis/coordination.k8s.io/v1/namespaces/${NS}/leases`, {
      body: JSON.stringify({ metadata: { name: 'l2' }, spec: { acquireTime: '2026-11-30T10:00:00Z' } }),
      contentType: 'application/json',
    });
    expect(whole.status).toBe(400);
    expect(whole.body.message).toContain('cannot parse "Z" as ".000000"');
    await leases.createNamespacedLease({
      namespace: NS,
      body: {
        metadata: { name: 'l3' },
        spec: { holderIdentity: 'me', renewTime: new V1MicroTime('2026-11-30T10:00:00.123Z') },
      },
    });
    const stored = await raw(sandbox, 'GET', `/apis/coordination.k8s.io/v1/namespaces/${NS}/leases/l3`);
    expect(stored.body.spec.renewTime).toBe('2026-11-30T10:00:00.123000Z');
  });
});

describe('built-in kinds have schemas', () => {
  it('drops unknown fields with a Warning, and answers 400 under fieldValidation=Strict', async () => {
    const body = deployment('unknown', {}, { canaryWeight: 10 });
    const warned = await raw(sandbox, 'POST', `/apis/apps/v1/namespaces/${NS}/deployments`, {
      body: JSON.stringify(body),
      contentType: 'application/json',
    });
    expect(warned.status).toBe(201);
    expect(warned.body.spec.canaryWeight).toBeUndefined();
    expect(warned.headers.get('warning')).toBe('299 - "unknown field \\"spec.canaryWeight\\""');
    // client-node's typed serializer drops unknown fields itself: the raw request is what reaches a server
    const strict = await raw(sandbox, 'POST', `/apis/apps/v1/namespaces/${NS}/deployments?fieldValidation=Strict`, {
      body: JSON.stringify({ ...body, metadata: { name: 'unknown2' } }),
      contentType: 'application/json',
    });
    expect(strict.status).toBe(400);
    expect(strict.body.message).toBe('strict decoding error: unknown field "spec.canaryWeight"');
    const typed = await failureOf(
      apps.createNamespacedDeployment({
        namespace: NS,
        body: deployment('zero-typed', {}, { strategy: { rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } } }),
        fieldValidation: 'Strict',
      }),
    );
    expect(typed.code).toBe(422);
  });

  it('Deployment validation: maxSurge and maxUnavailable both 0, duplicate container names (422), cpu: lots (400)', async () => {
    const zero = await failureOf(
      apps.createNamespacedDeployment({
        namespace: NS,
        body: deployment(
          'zero',
          {},
          { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: '0%' } } },
        ),
      }),
    );
    expect(zero.code).toBe(422);
    expect(zero.body.message).toBe(
      'Deployment.apps "zero" is invalid: spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "0%": may not be 0 when `maxSurge` is 0',
    );
    const dup = await failureOf(
      apps.createNamespacedDeployment({
        namespace: NS,
        body: deployment('dup', {
          containers: [
            { name: 'app', image: 'a:1' },
            { name: 'app', image: 'b:1' },
          ],
        }),
      }),
    );
    expect(dup.code).toBe(422);
    expect(dup.body.message).toBe(
      'Deployment.apps "dup" is invalid: spec.template.spec.containers[1].name: Duplicate value: "app"',
    );
    const cpu = await failureOf(
      apps.createNamespacedDeployment({
        namespace: NS,
        body: deployment('cpu', {
          containers: [{ name: 'app', image: 'a:1', resources: { requests: { cpu: 'lots' } } }],
        }),
      }),
    );
    expect(cpu.code).toBe(400);
    expect(cpu.body.message).toBe(
      `Deployment in version "v1" cannot be handled as a Deployment: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`,
    );
  });
});

describe('owner references', () => {
  it('two controller references or an empty UID: 422', async () => {
    const owner = await core.readNamespacedConfigMap({ name: 'original', namespace: NS });
    const ref = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      name: 'original',
      uid: owner.metadata?.uid ?? '',
      controller: true,
    };
    const two = await failureOf(
      core.createNamespacedConfigMap({
        namespace: NS,
        body: { metadata: { name: 'two', ownerReferences: [ref, { ...ref, name: 'other' }] } },
      }),
    );
    expect(two.code).toBe(422);
    expect(two.body.message).toContain(
      'Only one reference can have Controller set to true. Found "true" in references for ConfigMap/original and ConfigMap/other',
    );
    const empty = await failureOf(
      core.createNamespacedConfigMap({
        namespace: NS,
        body: { metadata: { name: 'empty', ownerReferences: [{ ...ref, uid: '' }] } },
      }),
    );
    expect(empty.code).toBe(422);
    expect(empty.body.message).toBe(
      'ConfigMap "empty" is invalid: metadata.ownerReferences.uid: Invalid value: "": uid must not be empty',
    );
  });

  it('a dependent whose owner has another UID is garbage-collected', async () => {
    await core.createNamespacedConfigMap({
      namespace: NS,
      body: {
        metadata: {
          name: 'wrong-uid',
          ownerReferences: [
            { apiVersion: 'v1', kind: 'ConfigMap', name: 'original', uid: '00000000-0000-0000-0000-000000000000' },
          ],
        },
      },
    });
    await waitFor(
      async () => (await failureOf(core.readNamespacedConfigMap({ name: 'wrong-uid', namespace: NS }))).code === 404,
      8000,
      'the dependent to be collected',
    );
  });

  it('a dependent naming an owner in another namespace is collected, with an OwnerRefInvalidNamespace Warning', async () => {
    const owner = await core.createNamespacedConfigMap({
      namespace: 'elsewhere',
      body: { metadata: { name: 'owner' } },
    });
    const ref = { apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata?.uid ?? '' };
    await core.createNamespacedConfigMap({
      namespace: NS,
      body: { metadata: { name: 'cross', ownerReferences: [ref] } },
    });
    await waitFor(
      async () => (await failureOf(core.readNamespacedConfigMap({ name: 'cross', namespace: NS }))).code === 404,
      8000,
      'the dependent to be collected',
    );
    const events = await core.listNamespacedEvent({ namespace: NS, fieldSelector: 'reason=OwnerRefInvalidNamespace' });
    expect(events.items.map((e) => [e.type, e.involvedObject.name, e.message])).toEqual([
      [
        'Warning',
        'cross',
        `ownerRef [v1/ConfigMap, namespace: ${NS}, name: owner, uid: ${owner.metadata?.uid ?? ''}] does not exist in namespace "${NS}"`,
      ],
    ]);
    await expect(core.readNamespacedConfigMap({ name: 'owner', namespace: 'elsewhere' })).resolves.toBeDefined();
  });
});

describe('deletion of a custom resource', () => {
  it('bumps generation when deletion starts (finalizers pending)', async () => {
    const body = {
      apiVersion: 'example.com/v1',
      kind: 'Gadget',
      metadata: { name: 'final', finalizers: ['example.com/hold'] },
      spec: {},
    };
    const created = (await custom.createNamespacedCustomObject({
      group: 'example.com',
      version: 'v1',
      namespace: NS,
      plural: 'gadgets',
      body,
    })) as { metadata: { generation: number } };
    const deleting = (await custom.deleteNamespacedCustomObject({
      group: 'example.com',
      version: 'v1',
      namespace: NS,
      plural: 'gadgets',
      name: 'final',
    })) as { metadata: { generation: number; deletionTimestamp?: string } };
    expect(deleting.metadata.deletionTimestamp).toBeDefined();
    expect(deleting.metadata.generation).toBe(created.metadata.generation + 1);
  });
});

describe('server-side apply', () => {
  it('is refused with 415 and a message saying why, never applied as a merge patch', async () => {
    const body = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'original' }, data: { a: 'applied' } };
    const failed = await failureOf(
      core.patchNamespacedConfigMap(
        { name: 'original', namespace: NS, body, fieldManager: 'kubestead' },
        setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
      ),
    );
    expect(failed.code).toBe(415);
    expect(failed.body.reason).toBe('UnsupportedMediaType');
    expect(failed.body.message).toContain('the sandbox does not implement server-side apply');
    const missing = await failureOf(
      core.patchNamespacedConfigMap(
        { name: 'never', namespace: NS, body: { ...body, metadata: { name: 'never' } }, fieldManager: 'kubestead' },
        setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
      ),
    );
    expect(missing.code).toBe(415);
    expect((await core.readNamespacedConfigMap({ name: 'original', namespace: NS })).data?.a).not.toBe('applied');
  });
});

describe.skipIf(!kubectlPresent)('the same refusals through kubectl', () => {
  let kubectl: Kubectl;
  beforeAll(async () => {
    kubectl = await kubectlFor(sandbox);
  });
  afterAll(async () => kubectl?.close());

  it('kubectl apply: unknown field (Strict by default), both-zero rolling update, duplicate containers', async () => {
    const manifest = (extra: string, containers = '[{name: app, image: "app:1"}]'): string => `apiVersion: apps/v1
kind: Deployment
metadata: {name: kc, namespace: ${NS}}
spec:
  selector: {matchLabels: {app: kc}}${extra}
  template:
    metadata: {labels: {app: kc}}
    spec: {containers: ${containers}}
`;
    const unknown = await kubectl.run('apply', '-f', await kubectl.file('u.yaml', manifest('\n  canaryWeight: 10')));
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('strict decoding error: unknown field "spec.canaryWeight"');
    const zero = await kubectl.run(
      'apply',
      '-f',
      await kubectl.file('z.yaml', manifest('\n  strategy: {rollingUpdate: {maxSurge: 0, maxUnavailable: 0}}')),
    );
    expect(zero.code).not.toBe(0);
    expect(zero.stderr).toContain(
      'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "0": may not be 0 when `maxSurge` is 0',
    );
    const dup = await kubectl.run(
      'apply',
      '-f',
      await kubectl.file('d.yaml', manifest('', '[{name: app, image: "a:1"}, {name: app, image: "b:1"}]')),
    );
    expect(dup.code).not.toBe(0);
    expect(dup.stderr).toContain('Duplicate value: "app"');
  });

  // (kubectl create clears metadata.resourceVersion itself, so that row is client-node's alone)
  it('kubectl apply --server-side is refused with the reason', async () => {
    const ssa = await kubectl.run(
      'apply',
      '--server-side',
      '-f',
      await kubectl.file(
        'ssa.yaml',
        `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ssa, namespace: ${NS}}\ndata: {a: "1"}\n`,
      ),
    );
    expect(ssa.code).not.toBe(0);
    expect(ssa.stderr).toContain('the sandbox does not implement server-side apply');
  });

  it('kubectl create configmap over 1 MiB', async () => {
    const big = await kubectl.run(
      'create',
      'configmap',
      'big',
      '-n',
      NS,
      `--from-file=big=${await kubectl.file('big.txt', 'x'.repeat(1024 * 1024 + 10))}`,
    );
    expect(big.code).not.toBe(0);
    expect(big.stderr).toContain('Too long: must have at most 1048576 bytes');
  });
});
