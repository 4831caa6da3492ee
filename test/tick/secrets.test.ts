import { describe, expect, it } from 'vitest';
import { waitFor } from '../support/wait.js';
import { scenario } from './scenario.js';
import { GROUP, type TickFixture } from './support.js';
import { mintSecret } from '../support/secrets.js';

/** Secret tracking against the sandbox: the target reads a Secret `token` through a projected volume and `envFrom`. */
const env = scenario();
const b64 = (value: string): string => Buffer.from(value).toString('base64');
const [ONE, TWO] = [mintSecret('token-one'), mintSecret('token-two')];

async function withToken(f: TickFixture, value: string): Promise<void> {
  await f.core.createNamespacedSecret({
    namespace: f.namespace,
    body: { metadata: { name: 'token' }, type: 'Opaque', data: { token: b64(value) } },
  });
  const labels = { app: 'app' };
  await f.apps.createNamespacedDeployment({
    namespace: f.namespace,
    body: {
      metadata: { name: 'app', labels },
      spec: {
        replicas: 4,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            volumes: [{ name: 'token', projected: { sources: [{ secret: { name: 'token' } }] } }],
            containers: [{ name: 'app', image: 'app:1', envFrom: [{ secretRef: { name: 'token' } }] }],
          },
        },
      },
    },
  });
  await f.settle();
}

const secretNames = async (f: TickFixture): Promise<(string | undefined)[]> =>
  (await f.core.listNamespacedSecret({ namespace: f.namespace })).items.map((s) => s.metadata?.name);

/** The Secrets a Deployment's pods read: its projected volume's, then its container's envFrom. */
async function readsFrom(f: TickFixture, name: string): Promise<(string | undefined)[]> {
  const spec = (await f.deployment(name)).spec!.template.spec!;
  const [volume] = spec.volumes!;
  return [volume!.projected!.sources![0]!.secret!.name, spec.containers[0]!.envFrom![0]!.secretRef!.name];
}

describe('Secret tracking', () => {
  it('is off by default: no copy, primary reads the Secret itself, an edit starts nothing', async () => {
    const f = await env.fixture();
    await withToken(f, ONE);
    await f.applyPolicy(env.spec());
    await f.adopt();
    expect(await secretNames(f)).not.toContain('token-primary');
    expect(await readsFrom(f, 'app-primary')).toEqual(['token', 'token']);
    await f.core.replaceNamespacedSecret({
      namespace: f.namespace,
      name: 'token',
      body: { metadata: { name: 'token' }, data: { token: b64(TWO) } },
    });
    await f.tick();
    expect((await f.status()).phase).toBe('Idle');
  });

  it('secrets: true copies it for primary; deleting the policy deletes the copy, the user Secret stays', async () => {
    const f = await env.fixture();
    await withToken(f, ONE);
    await f.applyPolicy(env.spec({ configTracking: { secrets: true } }));
    await f.adopt();
    const copy = await f.core.readNamespacedSecret({ namespace: f.namespace, name: 'token-primary' });
    expect(copy).toMatchObject({ type: 'Opaque', data: { token: b64(ONE) } });
    expect(copy.metadata?.labels).toMatchObject({ 'kubestead.io/copy-of': 'token' });
    expect(copy.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'RolloutPolicy', name: 'app' });
    expect(await readsFrom(f, 'app-primary')).toEqual(['token-primary', 'token-primary']);
    expect(await readsFrom(f, 'app')).toEqual(['token', 'token']);

    await f.objects.deleteNamespacedCustomObject({ ...GROUP, namespace: f.namespace, name: 'app' });
    await waitFor(
      async () => {
        await f.tick().catch(() => undefined);
        await f.settle();
        const gone = await f.policy().then(
          () => false,
          () => true,
        );
        return gone || undefined;
      },
      20_000,
      'the policy to be released by its finalizer',
    );
    const names = await secretNames(f);
    expect(names).toContain('token');
    expect(names).not.toContain('token-primary');
    const handedBack = (await f.events('Deployment')).find((e) => e.reason === 'HandedBack');
    expect(handedBack?.message).toMatch(/app-primary, token-primary deleted$/);
  });
});
