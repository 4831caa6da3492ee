import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { KubernetesObjectApi, type KubernetesObject } from '@kubernetes/client-node';
import { parse, parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock/clock.js';
import { loadPolicies } from '../../src/policy/load.js';
import { createWeightedRouter, type WeightedKind } from '../../src/routers/weighted.js';
import type { Sandbox } from '../../src/sandbox/index.js';
import { ROOT } from '../helpers.js';
import { testSandbox, waitFor } from '../sandbox/support.js';
import { getCustom, installCrds, thirdPartyCrdsPresent } from './support.js';

const markdown = readFileSync(resolve(ROOT, 'docs/routing.md'), 'utf8');

/** The YAML documents of the ```yaml blocks under each `## ` heading of docs/routing.md. */
function yamlBySection(text: string): Map<string, Record<string, unknown>[]> {
  const sections = new Map<string, Record<string, unknown>[]>();
  for (const part of text.split(/^## /m).slice(1)) {
    const title = part.slice(0, part.indexOf('\n')).trim();
    const blocks = [...part.matchAll(/^```yaml\n([\s\S]*?)^```$/gm)].map((m) => m[1] ?? '');
    sections.set(title, blocks.flatMap((block) => parseAllDocuments(block).map((d) => d.toJS() as Record<string, unknown>)));
  }
  return sections;
}

const sections = yamlBySection(markdown);
const ROUTERS: Array<[string, WeightedKind]> = [['Istio', 'istio'], ['Gateway API', 'gatewayAPI'], ["SMI (Linkerd's SMI extension)", 'smi'], ['ingress-nginx', 'nginx']];

function inNamespace(doc: Record<string, unknown>, namespace: string): KubernetesObject {
  const copy = structuredClone(doc) as KubernetesObject;
  copy.metadata = { ...copy.metadata, namespace };
  return copy;
}

describe.skipIf(!thirdPartyCrdsPresent())('docs/routing.md examples, applied to the sandbox', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await testSandbox();
    await installCrds(sandbox);
  });
  afterAll(() => sandbox?.close());

  it('has the app and one complete example per router', () => {
    expect(sections.get('The app in every example')?.map((d) => d.kind)).toEqual(['Deployment', 'Service']);
    for (const [title] of ROUTERS) expect(sections.get(title)?.at(-1)?.kind, title).toBe('RolloutPolicy');
  });

  it.each(ROUTERS)('%s: the objects are accepted, the policy validates, and the router splits at its first step', async (title, kind) => {
    const namespace = `docs-${kind.toLowerCase()}`;
    const client = KubernetesObjectApi.makeApiClient(sandbox.kubeConfig());
    await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
    const docs = [...(sections.get('The app in every example') ?? []), ...(sections.get(title) ?? [])];
    const created: Record<string, KubernetesObject> = {};
    for (const doc of docs) created[String(doc.kind)] = await client.create(inNamespace(doc, namespace));
    const policyDoc = inNamespace(docs.at(-1)!, namespace);
    const { policies, errors } = loadPolicies(JSON.stringify(policyDoc), 'routing.md');
    expect(errors).toEqual([]);
    const policy = created.RolloutPolicy!;
    const owner = { apiVersion: 'kubestead.io/v1alpha1', kind: 'RolloutPolicy', name: policy.metadata!.name!, uid: policy.metadata!.uid!, controller: false, blockOwnerDeletion: false };
    const spec = policies[0]!.policy.spec;
    const router = createWeightedRouter(kind, { target: { namespace, canary: 'checkout', primary: 'checkout-primary', owner, spec }, kubeConfig: sandbox.kubeConfig(), clock: systemClock });
    // prepare() passes once the Deployment's first ReplicaSet exists.
    await waitFor(async () => (await router.prepare()) === null, 8000, 'prepare() to pass');
    const first = spec.steps[0]!.weight!;
    await router.setWeight(first);
    expect((await router.getWeight()).weight).toBe(first);
    if (kind === 'istio') {
      const vs = await getCustom(sandbox, { group: 'networking.istio.io', version: 'v1', plural: 'virtualservices', namespace, name: 'checkout' });
      expect({ route: vs.spec.http[0].route }).toEqual(istioSnippet());
    }
  });
});

/** The route the Istio section shows for the 0.5 % step. */
function istioSnippet(): unknown {
  const match = /At the 0\.5 % step the route reads:\n\n```\n([\s\S]*?)```/.exec(markdown);
  return parse(match?.[1] ?? '') as unknown;
}
