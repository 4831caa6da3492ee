import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { parse, parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadPolicies } from '../../src/pipeline/policy/load.js';
import { ROOT } from '../helpers.js';
import { createObject, readObject, type Manifest } from './cases.js';
import { operatorWorld } from './operator.js';
import { thirdPartyCrdsPresent } from './support.js';

const markdown = readFileSync(resolve(ROOT, 'docs/routing.md'), 'utf8');

/** The YAML documents of the ```yaml blocks under each `## ` or `### ` heading of docs/routing.md. */
function yamlBySection(text: string): Map<string, Manifest[]> {
  const sections = new Map<string, Manifest[]>();
  for (const part of text.split(/^#{2,3} /m).slice(1)) {
    const title = part.slice(0, part.indexOf('\n')).trim();
    const blocks = [...part.matchAll(/^```yaml\n([\s\S]*?)^```$/gm)].map((m) => m[1] ?? '');
    sections.set(
      title,
      blocks.flatMap((block) => parseAllDocuments(block).map((d) => d.toJS() as Manifest)),
    );
  }
  return sections;
}

const sections = yamlBySection(markdown);
const APP = 'The app in every example';
const ROUTERS = ['Istio', 'With a DestinationRule', 'Gateway API', "SMI (Linkerd's SMI extension)", 'ingress-nginx'];
const VS = { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', name: 'checkout' };

/** The route the Istio section shows for the 0.5 % step. */
function istioSnippet(): unknown {
  const match = /At the 0\.5 % step the route reads:\n\n```\n([\s\S]*?)```/.exec(markdown);
  return parse(match?.[1] ?? '') as unknown;
}

const present = thirdPartyCrdsPresent();

describe('docs/routing.md examples', () => {
  it('has the app and one complete example per router, each ending with its policy', () => {
    expect(sections.get(APP)?.map((d) => d.kind)).toEqual(['Deployment', 'Service']);
    for (const title of ROUTERS) expect(sections.get(title)?.at(-1)?.kind, title).toBe('RolloutPolicy');
  });

  it.each(ROUTERS)('%s: the policy validates as `kubestead validate` reads it', (title) => {
    const policy = sections.get(title)!.at(-1)!;
    const { policies, errors } = loadPolicies(JSON.stringify(policy), 'routing.md');
    expect(errors).toEqual([]);
    expect(policies).toHaveLength(1);
  });
});

describe.skipIf(!present)('docs/routing.md examples, applied to the sandbox and run by the operator', () => {
  const world = operatorWorld();

  it.each(ROUTERS)(
    "%s: adopted, and a new image is routed its first step's exact share",
    async (title) => {
      const w = world();
      const ns = `docs-${title
        .toLowerCase()
        .replace(/[^a-z]+/g, '-')
        .replace(/-$/, '')}`;
      await w.sandbox.client(CoreV1Api).createNamespace({ body: { metadata: { name: ns } } });
      const docs = [...(sections.get(APP) ?? []), ...(sections.get(title) ?? [])];
      for (const doc of docs) await createObject(w.sandbox, ns, doc);
      const ready = await w.until(ns, 'adopted', (s) => s.phase === 'Idle');
      expect(ready.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
      const first = (docs.at(-1)!.spec as { steps: Array<{ weight: number }> }).steps[0]!.weight;
      await w.setImage(ns, 'registry.example/shop/checkout:1.5.0', 'checkout');
      const started = await w.until(
        ns,
        `the first step at ${first} %`,
        (s) => s.currentStep === 0 && s.effectiveWeight === first,
      );
      expect(started).toMatchObject({ phase: 'Progressing', canaryWeight: first });
      const route =
        title.includes('Istio') || title.includes('DestinationRule')
          ? (await readObject(w.sandbox, ns, VS)).spec.http[0].route
          : undefined;
      if (title === 'Istio') expect({ route }).toEqual(istioSnippet());
      if (title === 'With a DestinationRule') {
        const subset = (name: string, weight: number) => ({
          destination: { host: 'checkout', port: { number: 80 }, subset: name },
          weight,
        });
        expect(route).toEqual([subset('stable', 995), subset('canary', 5)]);
      }
    },
    60_000,
  );
});
