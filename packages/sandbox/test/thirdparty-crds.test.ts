import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../src/index.js';
import { causeFields, raw, testSandbox, type Body } from '../../../test/support/sandbox.js';
import { THIRD_PARTY, thirdPartyPresent } from '../../../test/support/third-party.js';

const crdDir = THIRD_PARTY.crds.dir;
const present = thirdPartyPresent('crds', 'the sandbox tests of the third-party router CRDs');

let sandbox: Sandbox;

async function post(path: string, body: unknown): Promise<{ status: number; body: Body }> {
  return raw(sandbox, 'POST', path, { body: JSON.stringify(body), contentType: 'application/json' });
}

describe.skipIf(!present)('third-party router CRDs', () => {
  beforeAll(async () => {
    sandbox = await testSandbox({ workloads: false });
    await post('/api/v1/namespaces', { metadata: { name: 'mesh' } });
  });
  afterAll(async () => sandbox.close());

  it('creates every published CRD of the routers', async () => {
    const files = (await readdir(crdDir)).filter((f) => f.endsWith('.yaml'));
    const names: string[] = [];
    for (const file of files) {
      for (const doc of parseAllDocuments(await readFile(join(crdDir, file), 'utf8'))) {
        const crd = doc.toJS() as { kind?: string; metadata: { name: string } } | null;
        if (crd?.kind !== 'CustomResourceDefinition') continue;
        const res = await post('/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd);
        expect(res.status, JSON.stringify(res.body).slice(0, 300)).toBe(201);
        names.push(crd.metadata.name);
      }
    }
    expect(names.sort()).toEqual([
      'destinationrules.networking.istio.io',
      'httproutes.gateway.networking.k8s.io',
      'trafficsplits.split.smi-spec.io',
      'virtualservices.networking.istio.io',
    ]);
  });

  it('accepts an Istio VirtualService with weighted routes and rejects a wrongly typed one', async () => {
    const vs = {
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: { name: 'checkout' },
      spec: {
        hosts: ['checkout'],
        http: [
          {
            name: 'http-primary',
            route: [
              { destination: { host: 'checkout-primary' }, weight: 95 },
              { destination: { host: 'checkout-canary' }, weight: 5 },
            ],
          },
        ],
      },
    };
    const ok = await post('/apis/networking.istio.io/v1/namespaces/mesh/virtualservices', vs);
    expect(ok.status, JSON.stringify(ok.body).slice(0, 500)).toBe(201);
    expect(ok.body.spec.http[0].route[1].weight).toBe(5);
    const bad = await post('/apis/networking.istio.io/v1/namespaces/mesh/virtualservices', {
      ...vs,
      metadata: { name: 'bad' },
      spec: { ...vs.spec, http: [{ route: [{ destination: { host: 'x' }, weight: 'five' }] }] },
    });
    expect(bad.status).toBe(422);
    expect(causeFields(bad.body)).toContain('spec.http[0].route[0].weight FieldValueTypeInvalid');
  });

  it('accepts a Gateway API HTTPRoute, applying the schema defaults', async () => {
    const route = {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'checkout' },
      spec: {
        parentRefs: [{ name: 'gw' }],
        rules: [
          {
            backendRefs: [
              { name: 'checkout-primary', port: 80, weight: 95 },
              { name: 'checkout-canary', port: 80, weight: 5 },
            ],
          },
        ],
      },
    };
    const ok = await post('/apis/gateway.networking.k8s.io/v1/namespaces/mesh/httproutes', route);
    expect(ok.status, JSON.stringify(ok.body).slice(0, 500)).toBe(201);
    expect(ok.body.spec.rules[0].matches).toEqual([{ path: { type: 'PathPrefix', value: '/' } }]);
    expect(ok.body.spec.rules[0].backendRefs[1]).toMatchObject({
      name: 'checkout-canary',
      weight: 5,
      kind: 'Service',
      group: '',
    });
    const bad = await post('/apis/gateway.networking.k8s.io/v1/namespaces/mesh/httproutes', {
      ...route,
      metadata: { name: 'bad' },
      spec: { rules: [{ backendRefs: [{ name: 'x', port: 80, weight: -1 }] }] },
    });
    expect(bad.status).toBe(422);
    expect(causeFields(bad.body)).toContain('spec.rules[0].backendRefs[0].weight FieldValueInvalid');
  });

  it('accepts an SMI TrafficSplit at both served versions and rejects one without backends', async () => {
    const split = {
      apiVersion: 'split.smi-spec.io/v1alpha2',
      kind: 'TrafficSplit',
      metadata: { name: 'checkout' },
      spec: {
        service: 'checkout',
        backends: [
          { service: 'checkout-primary', weight: 95 },
          { service: 'checkout-canary', weight: 5 },
        ],
      },
    };
    const ok = await post('/apis/split.smi-spec.io/v1alpha2/namespaces/mesh/trafficsplits', split);
    expect(ok.status, JSON.stringify(ok.body).slice(0, 500)).toBe(201);
    const asV1 = await raw(sandbox, 'GET', '/apis/split.smi-spec.io/v1alpha1/namespaces/mesh/trafficsplits/checkout');
    expect(asV1.body.apiVersion).toBe('split.smi-spec.io/v1alpha1');
    const bad = await post('/apis/split.smi-spec.io/v1alpha2/namespaces/mesh/trafficsplits', {
      ...split,
      metadata: { name: 'bad' },
      spec: { service: 'checkout' },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.details.causes).toEqual([
      { reason: 'FieldValueRequired', message: 'Required value', field: 'spec.backends' },
    ]);
  });
});
