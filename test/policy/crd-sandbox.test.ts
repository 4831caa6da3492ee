import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import {
  ApiException,
  ApiextensionsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  loadYaml,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startSandbox, type Sandbox } from '@kubestead/sandbox';
import { crdYaml } from '../../src/tools/gen/crd.js';
import { ROOT } from '../helpers.js';

const run = promisify(execFile);
const GROUP = { group: 'kubestead.io', version: 'v1alpha1', plural: 'rolloutpolicies' };
type Policy = { metadata: { name: string; namespace?: string }; spec: Record<string, unknown> };

/** The generated CRD, served by the sandbox's API server: the fixture policies are accepted as written. */
describe('RolloutPolicy CRD in a cluster', () => {
  let sandbox: Sandbox;
  let objects: CustomObjectsApi;

  beforeAll(async () => {
    sandbox = await startSandbox({ workloads: false });
    await sandbox
      .client(ApiextensionsV1Api)
      .createCustomResourceDefinition({ body: loadYaml<V1CustomResourceDefinition>(crdYaml()) });
    objects = sandbox.client(CustomObjectsApi);
    for (const namespace of ['shop', 'pay', 'web', 'frontend', 'default']) {
      await sandbox
        .client(CoreV1Api)
        .createNamespace({ body: { metadata: { name: namespace } } })
        .catch(() => undefined);
    }
  });
  afterAll(() => sandbox?.close());

  const fixtures = readdirSync(resolve(ROOT, 'fixtures/policies')).filter((f) => f.endsWith('.yaml'));

  it.each(fixtures)('accepts %s and keeps its spec as written', async (file) => {
    const policy = parse(readFileSync(resolve(ROOT, 'fixtures/policies', file), 'utf8')) as Policy;
    const namespace = policy.metadata.namespace ?? 'default';
    // fixtures of one story share a name (`checkout`): each replaces the one before it
    await objects
      .deleteNamespacedCustomObject({ ...GROUP, namespace, name: policy.metadata.name })
      .catch((error: unknown) => expect(String(error)).toContain('HTTP-Code: 404'));
    const created = (await objects.createNamespacedCustomObject({ ...GROUP, namespace, body: policy })) as Policy;
    expect(created.spec).toEqual(policy.spec);
    const read = (await objects.getNamespacedCustomObject({
      ...GROUP,
      namespace,
      name: policy.metadata.name,
    })) as Policy;
    expect(read.spec).toEqual(policy.spec);
  });

  it.each([
    ['a weight that is not a number', { weight: 'x' }, 'spec.steps[0].weight'],
    ['a weight over 100', { weight: 150 }, 'spec.steps[0].weight'],
    ['a malformed soak', { weight: 5, soak: '5x' }, 'spec.steps[0].soak'],
  ])('rejects %s with 422 naming the field', async (_, step, field) => {
    const body = {
      apiVersion: 'kubestead.io/v1alpha1',
      kind: 'RolloutPolicy',
      metadata: { name: 'bad' },
      spec: { targetRef: { kind: 'Deployment', name: 'web' }, steps: [step] },
    };
    const error = await objects
      .createNamespacedCustomObject({ ...GROUP, namespace: 'default', body })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiException);
    expect((error as ApiException<string>).code).toBe(422);
    expect(String((error as ApiException<string>).body)).toContain(field);
  });

  const AB = { match: [{ headers: { 'x-canary': { exact: 'insider' } } }], soak: '10m' };
  const target = { kind: 'Deployment', name: 'web' };
  const blueGreen = { previewService: 'web-preview' };
  it.each([
    [
      'a step of two kinds',
      { steps: [{ weight: 5, mirror: 100 }] },
      'a step has exactly one of weight, pause, match or mirror',
    ],
    ['a match step with replica routing', { steps: [AB] }, 'a match step needs istio, gatewayAPI, nginx routing'],
    [
      'a mirror step with smi',
      { steps: [{ mirror: 100 }], trafficRouting: { smi: { trafficSplit: { name: 'web' } } } },
      'a mirror step needs istio, gatewayAPI, nginx routing',
    ],
    [
      'a partial mirror with nginx',
      { steps: [{ mirror: 50 }], trafficRouting: { nginx: { ingress: { name: 'web' } } } },
      'mirroring a part of the requests needs istio or gatewayAPI routing',
    ],
    [
      'a header prefix with Gateway API',
      {
        steps: [{ match: [{ headers: { 'x-beta': { prefix: 'v2' } } }] }],
        trafficRouting: { gatewayAPI: { httpRoute: { name: 'web' } } },
      },
      'a header match by prefix needs istio routing',
    ],
    [
      'session affinity with nginx',
      {
        steps: [{ weight: 5 }],
        trafficRouting: { nginx: { ingress: { name: 'web' } }, sessionAffinity: { cookieName: 'c' } },
      },
      'sessionAffinity needs istio or gatewayAPI routing',
    ],
    [
      'steps beside blueGreen',
      { strategy: 'blueGreen', blueGreen, steps: [{ weight: 5 }] },
      'steps and blueGreen exclude each other',
    ],
    [
      'blueGreen without the strategy',
      { blueGreen, steps: [{ weight: 5 }] },
      'strategy blueGreen and the blueGreen section go together',
    ],
    ['a canary without steps', {}, 'at least one step is needed'],
  ])('refuses %s at admission (CEL)', async (_, spec, message) => {
    const body = {
      apiVersion: 'kubestead.io/v1alpha1',
      kind: 'RolloutPolicy',
      metadata: { name: 'bad' },
      spec: { targetRef: target, ...spec },
    };
    const error = await objects
      .createNamespacedCustomObject({ ...GROUP, namespace: 'default', body })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiException);
    expect((error as ApiException<string>).code).toBe(422);
    expect(String((error as ApiException<string>).body)).toContain(message);
  });

  it.each([
    [
      'an A/B step on Istio',
      { steps: [AB, { weight: 25 }], trafficRouting: { istio: { virtualService: { name: 'web' } } } },
    ],
    [
      'a mirror step and session affinity on Gateway API',
      {
        steps: [{ mirror: 50, soak: '5m' }, { weight: 10 }],
        trafficRouting: {
          gatewayAPI: { httpRoute: { name: 'web' } },
          sessionAffinity: { cookieName: 'c', maxAge: '1h' },
        },
      },
    ],
    ['blue-green with replica routing', { strategy: 'blueGreen', blueGreen: { ...blueGreen, autoPromote: false } }],
  ])('admits %s as written', async (_, spec) => {
    const name = `ok-${Math.random().toString(36).slice(2, 8)}`;
    const body = {
      apiVersion: 'kubestead.io/v1alpha1',
      kind: 'RolloutPolicy',
      metadata: { name },
      spec: { targetRef: target, ...spec },
    };
    const created = (await objects.createNamespacedCustomObject({ ...GROUP, namespace: 'default', body })) as Policy;
    expect(created.spec).toEqual(body.spec);
  });

  it('keeps status apart from spec (status subresource)', async () => {
    const name = 'api';
    await objects.patchNamespacedCustomObjectStatus({
      ...GROUP,
      namespace: 'default',
      name,
      body: [{ op: 'add', path: '/status', value: { phase: 'Progressing', currentStep: 1 } }],
    });
    const read = (await objects.getNamespacedCustomObject({ ...GROUP, namespace: 'default', name })) as Policy & {
      status: unknown;
    };
    expect(read.status).toEqual({ phase: 'Progressing', currentStep: 1 });
  });
});

/** The same CRD through the real kubectl: apply from crds/ and fixtures/, then `get` shows the printer columns. */
describe.skipIf(!existsSync('/usr/bin/kubectl') && process.env.CI !== 'true')('RolloutPolicy CRD with kubectl', () => {
  let sandbox: Sandbox;
  let home: string;
  const kubectl = (...args: string[]) =>
    run('/usr/bin/kubectl', ['--kubeconfig', sandbox.kubeconfigPath, '--cache-dir', join(home, 'cache'), ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: home },
      timeout: 20_000,
    });

  beforeAll(async () => {
    sandbox = await startSandbox({ workloads: false });
    home = await mkdtemp(join(tmpdir(), 'kubestead-kubectl-'));
  });
  afterAll(async () => {
    await sandbox?.close();
    await rm(home, { recursive: true, force: true });
  });

  it('applies the CRD and a policy, and lists it with Phase, Step, Stage, Weight, Last decision and Age', async () => {
    expect((await kubectl('apply', '-f', resolve(ROOT, 'crds/rolloutpolicies.kubestead.io.yaml'))).stdout).toContain(
      'rolloutpolicies.kubestead.io created',
    );
    await kubectl('create', 'namespace', 'shop');
    expect((await kubectl('apply', '-f', resolve(ROOT, 'fixtures/policies/checkout.yaml'))).stdout).toContain(
      'rolloutpolicy.kubestead.io/checkout created',
    );
    const [header, row] = (await kubectl('get', 'rp', '-n', 'shop')).stdout.trim().split('\n');
    expect(header?.split(/\s{2,}/)).toEqual(['NAME', 'PHASE', 'STEP', 'STAGE', 'WEIGHT', 'LAST DECISION', 'AGE']);
    expect(row).toMatch(/^checkout\s+\d+s$/);
  });
});
