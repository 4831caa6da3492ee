import type { V1Deployment } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../support/wait.js';
import { scenario } from './scenario.js';
import { GROUP, type TickFixture } from './support.js';

/** Config tracking against the sandbox: the target reads a ConfigMap `settings` through a volume and `envFrom`. */
const env = scenario();

async function withSettings(f: TickFixture, data: Record<string, string>): Promise<void> {
  await f.core.createNamespacedConfigMap({ namespace: f.namespace, body: { metadata: { name: 'settings' }, data } });
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
            volumes: [{ name: 'settings', configMap: { name: 'settings' } }],
            containers: [{ name: 'app', image: 'app:1', envFrom: [{ configMapRef: { name: 'settings' } }] }],
          },
        },
      },
    },
  });
  await f.settle();
}

const setSettings = (f: TickFixture, data: Record<string, string>) =>
  f.core.replaceNamespacedConfigMap({
    namespace: f.namespace,
    name: 'settings',
    body: { metadata: { name: 'settings' }, data },
  });

const dataOf = async (f: TickFixture, name: string) =>
  (await f.core.readNamespacedConfigMap({ namespace: f.namespace, name })).data;

/** The ConfigMaps a Deployment's pods read: its volume's, then its container's envFrom. */
function readsFrom(d: V1Deployment): (string | undefined)[] {
  const spec = d.spec?.template.spec;
  return [spec?.volumes?.[0]?.configMap?.name, spec?.containers[0]?.envFrom?.[0]?.configMapRef?.name];
}

async function adoptedWithSettings(f: TickFixture): Promise<void> {
  await withSettings(f, { mode: 'old' });
  await f.applyPolicy(env.spec());
  await f.adopt();
}

describe('config tracking', () => {
  it("adoption gives primary its own copy, and points primary's template at it", async () => {
    const f = await env.fixture();
    await adoptedWithSettings(f);
    const copy = await f.core.readNamespacedConfigMap({ namespace: f.namespace, name: 'settings-primary' });
    expect(copy.data).toEqual({ mode: 'old' });
    expect(copy.metadata?.labels).toMatchObject({
      'app.kubernetes.io/managed-by': 'kubestead',
      'kubestead.io/copy-of': 'settings',
    });
    expect(copy.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'RolloutPolicy', name: 'app' });
    const primary = await f.deployment('app-primary');
    expect(readsFrom(primary)).toEqual(['settings-primary', 'settings-primary']);
    expect(primary.spec?.template.metadata?.annotations?.['kubestead.io/config-hash']).toMatch(/^[0-9a-f]{10}$/);
    // The user's objects are never written.
    expect(readsFrom(await f.deployment('app'))).toEqual(['settings', 'settings']);
  });

  it('an edit of the ConfigMap is canaried, and promotion gives primary the new data', async () => {
    const f = await env.fixture();
    await adoptedWithSettings(f);
    const stable = (await f.status()).stableRevision;
    await setSettings(f, { mode: 'new' });
    await f.tick();
    const started = await f.status();
    expect(started).toMatchObject({ phase: 'Progressing', currentStep: 0, canaryWeight: 20 });
    expect(started.canaryRevision).not.toBe(stable);
    const events = (await f.events('RolloutPolicy')).map((e) => e.message);
    expect(events).toContain(
      `new revision (config changed: ConfigMap settings; app=app:1, revision ${started.canaryRevision}): canary starts ` +
        'at step 1/2',
    );
    expect(await dataOf(f, 'settings-primary')).toEqual({ mode: 'old' });
    const hashBefore = (await f.deployment('app-primary')).spec?.template?.metadata?.annotations;
    const done = await f.tickUntil((s) => s.phase === 'Succeeded', 60_000);
    expect(done.stableRevision).toBe(started.canaryRevision);
    expect(await dataOf(f, 'settings-primary')).toEqual({ mode: 'new' });
    // The template did not change, the config did: primary's config hash rolls it.
    const hashAfter = (await f.deployment('app-primary')).spec?.template?.metadata?.annotations;
    expect(hashAfter?.['kubestead.io/config-hash']).not.toBe(hashBefore?.['kubestead.io/config-hash']);
    expect(await dataOf(f, 'settings')).toEqual({ mode: 'new' });
  });

  it("a breaching config change is rolled back, and primary's copy keeps the old data", async () => {
    const f = await env.fixture();
    await adoptedWithSettings(f);
    await setSettings(f, { mode: 'bad' });
    await f.tick();
    expect((await f.status()).phase).toBe('Progressing');
    await f.settle();
    env.prom.set(0.4);
    try {
      await f.clock.advance(10_000);
      await f.tick();
      expect((await f.status()).phase).toBe('RolledBack');
      expect(await dataOf(f, 'settings-primary')).toEqual({ mode: 'old' });
    } finally {
      env.prom.set(0.001);
    }
  });

  it('deleting the policy deletes the copies after the hand-back; the user ConfigMap stays', async () => {
    const f = await env.fixture();
    await adoptedWithSettings(f);
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
    const names = (await f.core.listNamespacedConfigMap({ namespace: f.namespace })).items.map((c) => c.metadata?.name);
    expect(names).toContain('settings');
    expect(names).not.toContain('settings-primary');
    expect(await dataOf(f, 'settings')).toEqual({ mode: 'old' });
    const handedBack = (await f.events('Deployment')).find((e) => e.reason === 'HandedBack');
    expect(handedBack?.message).toMatch(/app-primary, settings-primary deleted$/);
  });

  it('configTracking: {enabled: false} leaves config out: an edit starts nothing, no copy is made', async () => {
    const f = await env.fixture();
    await withSettings(f, { mode: 'old' });
    await f.applyPolicy(env.spec({ configTracking: { enabled: false } }));
    await f.adopt();
    await setSettings(f, { mode: 'new' });
    await f.tick();
    expect((await f.status()).phase).toBe('Idle');
    const copies = await f.core.listNamespacedConfigMap({ namespace: f.namespace });
    expect(copies.items.map((c) => c.metadata?.name)).not.toContain('settings-primary');
    expect(readsFrom(await f.deployment('app-primary'))).toEqual(['settings', 'settings']);
  });
});
