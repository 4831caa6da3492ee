import { ApiextensionsV1Api, type V1CustomResourceDefinition } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { Sandbox } from '@kubestead/sandbox';
import { crdYaml } from '../../src/tools/gen/crd.js';
import { kubectlFor, kubectlPresent, type Kubectl } from '../support/kubectl.js';
import { testSandbox } from '../support/sandbox.js';

type Node = {
  type?: string;
  description?: string;
  properties?: Record<string, Node>;
  items?: Node;
  additionalProperties?: Node;
};

/** Every path of the CRD's schema that kubectl explain can show fields of (objects, lists and maps of objects). */
function objectPaths(node: Node, path: string): string[] {
  const inner = node.items ?? (typeof node.additionalProperties === 'object' ? node.additionalProperties : node);
  if (!inner.properties) return [];
  return [path, ...Object.entries(inner.properties).flatMap(([key, child]) => objectPaths(child, `${path}.${key}`))];
}

/** The field names listed under FIELDS: in an explain page, each with the text under it. */
function fieldsOf(page: string): Array<{ name: string; text: string }> {
  const section = page.split(/^FIELDS:$/m)[1] ?? '';
  const blocks = section.split(/\n(?= {2}\S+\t<)/).filter((b) => b.trim() !== '');
  return blocks.map((block) => {
    const [head = '', ...rest] = block.replace(/^\n/, '').split('\n');
    const text = rest.filter((line) => !/^ {2}enum:/.test(line)).join(' ');
    return { name: head.trim().split(/\s+/)[0] ?? '', text: text.trim() };
  });
}

/** The real kubectl against the sandbox serving the generated CRD: every field, spec and status, is described. */
describe.skipIf(!kubectlPresent && process.env.CI !== 'true')('kubectl explain rolloutpolicy (real kubectl)', () => {
  let sandbox: Sandbox;
  let kubectl: Kubectl;
  const crd = parse(crdYaml()) as V1CustomResourceDefinition;
  const schema = crd.spec.versions[0]!.schema!.openAPIV3Schema as Node;

  beforeAll(async () => {
    sandbox = await testSandbox({ workloads: false });
    await sandbox.client(ApiextensionsV1Api).createCustomResourceDefinition({ body: crd });
    kubectl = await kubectlFor(sandbox);
  });
  afterAll(async () => {
    await kubectl?.close();
    await sandbox?.close();
  });

  it('shows a description for every field of spec and status, at every level', async () => {
    const paths = objectPaths(schema, 'rolloutpolicy');
    expect(paths).toEqual(
      expect.arrayContaining([
        'rolloutpolicy.spec.steps',
        'rolloutpolicy.spec.checks',
        'rolloutpolicy.spec.providers.datadog',
        'rolloutpolicy.spec.notifications.webhook',
        'rolloutpolicy.status.checks',
        'rolloutpolicy.status.conditions',
      ]),
    );
    const undescribed: string[] = [];
    let fields = 0;
    for (const path of paths) {
      const { stdout, stderr, code } = await kubectl.run('explain', path);
      expect({ path, code, stderr }).toEqual({ path, code: 0, stderr: '' });
      expect(stdout).not.toContain('<no description>');
      for (const field of fieldsOf(stdout)) {
        fields += 1;
        if (field.text === '' || field.text.includes('<no description>')) undescribed.push(`${path}.${field.name}`);
      }
    }
    expect(undescribed).toEqual([]);
    expect(fields).toBeGreaterThan(100);
  });

  it('explains a step, a check bound and a status field in words', async () => {
    const weight = await kubectl.run('explain', 'rolloutpolicy.spec.steps.weight');
    expect(weight.stdout).toMatch(/Percent of traffic/);
    const max = await kubectl.run('explain', 'rolloutpolicy.status.checks.max');
    expect(max.stdout).toMatch(/upper bound/);
    const key = await kubectl.run('explain', 'rolloutpolicy.spec.providers.datadog.apiKeySecretRef');
    expect(key.stdout).toMatch(/Datadog API key/);
  });
});
