import { AppsV1Api, CoreV1Api, type V1Deployment } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../src/index.js';
import { canonicalQuantity, milliValue, parseQuantity } from '../src/quantity.js';
import { semanticEqual } from '../src/semantic.js';
import { podTemplateHash } from '../src/template-hash.js';
import { deploymentBody, raw, testSandbox } from '../../../test/support/sandbox.js';
import { waitFor } from '../../../test/support/wait.js';

/** Go-value semantics of built-in objects: quantities, semantic equality, and the pod-template-hash over both. */

describe('quantities in canonical form, as the API server stores them', () => {
  it.each([
    ['0.5', '500m'],
    ['500m', '500m'],
    ['1000m', '1'],
    ['1500m', '1500m'],
    ['1.5', '1500m'],
    ['0.1', '100m'],
    ['1', '1'],
    [1, '1'],
    [0.25, '250m'],
    ['2000', '2k'],
    ['1k', '1k'],
    ['1e3', '1e3'],
    ['1E3', '1e3'],
    ['0', '0'],
    ['0m', '0'],
    ['128Mi', '128Mi'],
    ['1024Mi', '1Gi'],
    ['1.5Gi', '1536Mi'],
    ['1.5Ki', '1536'],
    ['512Ki', '512Ki'],
    ['100', '100'],
    ['0.0000000001', '1n'],
    ['12e-1', '1200e-3'],
    ['-1.5', '-1500m'],
  ] as const)('%s → %s', (input, canonical) => {
    expect(canonicalQuantity(input)).toBe(canonical);
  });

  it.each([
    ['400m', 400],
    ['1.2', 1200],
    ['2', 2000],
    ['0.0001', 1],
    ['100Mi', 104857600000],
  ] as const)('%s is %i thousandths (rounded up)', (input, milli) => {
    expect(milliValue(parseQuantity(input)!)).toBe(milli);
  });

  it.each(['lots', '', '1.2.3', '5 m', '1Kb', 'm'])('%j is no quantity', (input) => {
    expect(parseQuantity(input)).toBeUndefined();
  });
});

const template = {
  metadata: { labels: { app: 'web' } },
  spec: {
    containers: [{ name: 'web', image: 'web:1', resources: { requests: { cpu: '500m' } } }],
    terminationGracePeriodSeconds: 30,
  },
};

describe('semantic equality (equality.Semantic.DeepEqual of the decoded values)', () => {
  it.each([
    ['creationTimestamp: null', { ...template, metadata: { ...template.metadata, creationTimestamp: null } }],
    ['an empty annotations map', { ...template, metadata: { ...template.metadata, annotations: {} } }],
    [
      'an empty args list and a false stdin',
      {
        ...template,
        spec: { ...template.spec, containers: [{ ...template.spec.containers[0], args: [], stdin: false }] },
      },
    ],
    [
      'a zero port field and an empty string',
      {
        ...template,
        spec: { ...template.spec, hostname: '', containers: [{ ...template.spec.containers[0], workingDir: '' }] },
      },
    ],
    [
      'cpu 0.5 for 500m',
      {
        ...template,
        spec: {
          ...template.spec,
          containers: [{ ...template.spec.containers[0], resources: { requests: { cpu: 0.5 } } }],
        },
      },
    ],
    [
      'empty resources limits',
      {
        ...template,
        spec: {
          ...template.spec,
          containers: [{ ...template.spec.containers[0], resources: { requests: { cpu: '500m' }, limits: {} } }],
        },
      },
    ],
    ['keys in another order', { spec: template.spec, metadata: template.metadata }],
  ])('the same: %s', (_what, other) => {
    expect(semanticEqual(template, other)).toBe(true);
    expect(podTemplateHash(other)).toBe(podTemplateHash(template));
  });

  it.each([
    ['another image', { ...template, spec: { ...template.spec, containers: [{ name: 'web', image: 'web:2' }] } }],
    [
      'terminationGracePeriodSeconds 0 (a pointer: 0 is a value)',
      {
        ...template,
        spec: { ...template.spec, terminationGracePeriodSeconds: 0 },
      },
    ],
    [
      'an emptyDir volume (a pointer: {} is a value)',
      {
        ...template,
        spec: { ...template.spec, volumes: [{ name: 'tmp', emptyDir: {} }] },
      },
    ],
    [
      'a securityContext {} on the container',
      {
        ...template,
        spec: { ...template.spec, containers: [{ ...template.spec.containers[0], securityContext: {} }] },
      },
    ],
    [
      'cpu 0.6',
      {
        ...template,
        spec: {
          ...template.spec,
          containers: [{ ...template.spec.containers[0], resources: { requests: { cpu: 0.6 } } }],
        },
      },
    ],
  ])('different: %s', (_what, other) => {
    expect(semanticEqual(template, other)).toBe(false);
    expect(podTemplateHash(other)).not.toBe(podTemplateHash(template));
  });

  it('counts collisions into the hash', () => {
    expect(podTemplateHash(template, 1)).not.toBe(podTemplateHash(template));
  });
});

describe('writes and rollouts compare Go values', () => {
  let sandbox: Sandbox;
  let apps: AppsV1Api;
  const deployment = (name: string): V1Deployment =>
    deploymentBody(name, { containers: [{ name: 'c', image: 'app:1', resources: { requests: { cpu: '500m' } } }] });

  beforeAll(async () => {
    sandbox = await testSandbox();
    apps = sandbox.client(AppsV1Api);
    await sandbox.client(CoreV1Api).createNamespace({ body: { metadata: { name: 'sem' } } });
  });
  afterAll(async () => sandbox.close());

  it('a write that changes only the JSON (null, empty, 0.5 for 500m) stores nothing new', async () => {
    const created = await apps.createNamespacedDeployment({ namespace: 'sem', body: deployment('same') });
    const template = created.spec!.template;
    // no resourceVersion: an unconditional update (the controller writes status meanwhile)
    const body = {
      ...created,
      metadata: { ...created.metadata, resourceVersion: undefined },
      spec: {
        ...created.spec,
        template: {
          metadata: { ...template.metadata, creationTimestamp: null, annotations: {} },
          spec: {
            ...template.spec,
            containers: [{ ...template.spec!.containers[0], args: [], resources: { requests: { cpu: 0.5 } } }],
          },
        },
      },
    };
    const res = await raw(sandbox, 'PUT', '/apis/apps/v1/namespaces/sem/deployments/same', {
      body: JSON.stringify(body),
      contentType: 'application/json',
    });
    expect(res.status).toBe(200);
    expect(res.body.metadata.generation).toBe(1);
    const latest = await apps.readNamespacedDeployment({ name: 'same', namespace: 'sem' });
    expect(latest.metadata?.generation).toBe(1);
    expect(latest.spec?.template.spec?.containers[0]?.resources?.requests).toEqual({ cpu: '500m' });
  });

  it('a hash collision raises status.collisionCount and the next name is taken', async () => {
    const probe = await raw(sandbox, 'POST', '/apis/apps/v1/namespaces/sem/deployments?dryRun=All', {
      body: JSON.stringify(deployment('collide')),
      contentType: 'application/json',
    });
    const hash = podTemplateHash(probe.body.spec.template);
    // another template under the name the Deployment's ReplicaSet would take
    await apps.createNamespacedReplicaSet({
      namespace: 'sem',
      body: {
        metadata: { name: `collide-${hash}` },
        spec: {
          replicas: 0,
          selector: { matchLabels: { other: 'x' } },
          template: { metadata: { labels: { other: 'x' } }, spec: { containers: [{ name: 'o', image: 'other:1' }] } },
        },
      },
    });
    await apps.createNamespacedDeployment({ namespace: 'sem', body: deployment('collide') });
    const d = await waitFor(
      async () => {
        const x = await apps.readNamespacedDeployment({ name: 'collide', namespace: 'sem' });
        return x.status?.readyReplicas === 1 && x;
      },
      8000,
      'the Deployment ready',
    );
    expect(d.status?.collisionCount).toBe(1);
    const owned = (await apps.listNamespacedReplicaSet({ namespace: 'sem', labelSelector: 'app=collide' })).items;
    expect(owned.map((rs) => rs.metadata?.name)).toEqual([`collide-${podTemplateHash(probe.body.spec.template, 1)}`]);
  });
});
