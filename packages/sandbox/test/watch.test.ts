import { CoreV1Api, makeInformer, Watch, type KubernetesObject, type V1ConfigMap } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../src/index.js';
import { raw, testSandbox, type Body } from '../../../test/support/sandbox.js';
import { waitFor } from '../../../test/support/wait.js';

let sandbox: Sandbox;
let core: CoreV1Api;

beforeAll(async () => {
  sandbox = await testSandbox({ workloads: false, bookmarkIntervalMs: 100 });
  core = sandbox.kubeConfig().makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: 'w' } } });
});
afterAll(async () => sandbox.close());

interface Seen {
  type: string;
  name?: string;
  rv?: string;
  object: Body;
}

async function watchFrom(
  path: string,
  query: Record<string, string | boolean>,
  seen: Seen[],
): Promise<{ abort(): void; done: Promise<unknown> }> {
  let finish: (err: unknown) => void = () => undefined;
  const done = new Promise((resolve) => (finish = resolve));
  const controller = await new Watch(sandbox.kubeConfig()).watch(
    path,
    query,
    (type, object: Body) => {
      seen.push({ type, name: object.metadata?.name, rv: object.metadata?.resourceVersion, object });
    },
    (err) => finish(err ?? 'closed'),
  );
  return { abort: () => controller.abort(), done };
}

describe('watch with the real client-node', () => {
  it('resumes from the list resourceVersion without missing or duplicating an event', async () => {
    for (let i = 0; i < 5; i++)
      await core.createNamespacedConfigMap({ namespace: 'w', body: { metadata: { name: `pre-${i}` } } });
    const list = await core.listNamespacedConfigMap({ namespace: 'w' });
    // changes between the list and the watch: the watch must replay them
    await core.createNamespacedConfigMap({ namespace: 'w', body: { metadata: { name: 'between' } } });
    await core.deleteNamespacedConfigMap({ name: 'pre-0', namespace: 'w' });
    const seen: Seen[] = [];
    const w = await watchFrom(
      '/api/v1/namespaces/w/configmaps',
      { resourceVersion: list.metadata!.resourceVersion! },
      seen,
    );
    const writes: Promise<unknown>[] = [];
    for (let i = 0; i < 20; i++)
      writes.push(core.createNamespacedConfigMap({ namespace: 'w', body: { metadata: { name: `live-${i}` } } }));
    await Promise.all(writes);
    await core.deleteNamespacedConfigMap({ name: 'live-3', namespace: 'w' });
    await waitFor(() => seen.some((e) => e.type === 'DELETED' && e.name === 'live-3'), 5000, 'the last event');
    w.abort();
    const expected = ['ADDED between', 'DELETED pre-0', ...Array.from({ length: 20 }, (_, i) => `ADDED live-${i}`)];
    const got = seen.map((e) => `${e.type} ${e.name}`);
    expect(got.slice(0, 2)).toEqual(expected.slice(0, 2));
    expect(got.filter((g) => g.startsWith('ADDED live-')).sort()).toEqual(expected.slice(2).sort());
    expect(got[got.length - 1]).toBe('DELETED live-3');
    expect(got).toHaveLength(expected.length + 1);
    const rvs = seen.map((e) => Number(e.rv));
    expect(rvs).toEqual([...rvs].sort((a, b) => a - b));
    expect(new Set(rvs).size).toBe(rvs.length);
  });

  it('sends ADDED for current objects when no resourceVersion is given, filtered by selectors', async () => {
    await core.createNamespacedConfigMap({
      namespace: 'w',
      body: { metadata: { name: 'sel-a', labels: { pick: 'yes' } } },
    });
    await core.createNamespacedConfigMap({
      namespace: 'w',
      body: { metadata: { name: 'sel-b', labels: { pick: 'no' } } },
    });
    const seen: Seen[] = [];
    const w = await watchFrom('/api/v1/namespaces/w/configmaps', { labelSelector: 'pick=yes' }, seen);
    await waitFor(() => seen.length >= 1);
    // sel-b moves into the selector: ADDED; sel-a moves out: DELETED
    const b = await core.readNamespacedConfigMap({ name: 'sel-b', namespace: 'w' });
    await core.replaceNamespacedConfigMap({
      name: 'sel-b',
      namespace: 'w',
      body: { ...b, metadata: { ...b.metadata, labels: { pick: 'yes' } } },
    });
    const a = await core.readNamespacedConfigMap({ name: 'sel-a', namespace: 'w' });
    await core.replaceNamespacedConfigMap({
      name: 'sel-a',
      namespace: 'w',
      body: { ...a, metadata: { ...a.metadata, labels: { pick: 'no' } } },
    });
    await waitFor(() => seen.length >= 3);
    w.abort();
    expect(seen.map((e) => `${e.type} ${e.name}`)).toEqual(['ADDED sel-a', 'ADDED sel-b', 'DELETED sel-a']);
  });

  it('sends BOOKMARK events when allowWatchBookmarks is set, and ends at timeoutSeconds', async () => {
    const seen: Seen[] = [];
    const started = Date.now();
    const w = await watchFrom(
      '/api/v1/namespaces/w/configmaps',
      { resourceVersion: '0', allowWatchBookmarks: true, timeoutSeconds: '1' },
      seen,
    );
    await w.done;
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    const bookmarks = seen.filter((e) => e.type === 'BOOKMARK');
    expect(bookmarks.length).toBeGreaterThanOrEqual(3);
    expect(bookmarks[0]!.object).toMatchObject({ kind: 'ConfigMap', apiVersion: 'v1' });
    expect(Number(bookmarks[0]!.rv)).toBeGreaterThan(0);
  });

  it('answers a watch from a compacted resourceVersion with a 410 Expired ERROR event', async () => {
    const list = await core.listNamespacedConfigMap({ namespace: 'w' });
    await core.createNamespacedConfigMap({ namespace: 'w', body: { metadata: { name: 'after-list' } } });
    sandbox.faults.compact();
    const seen: Seen[] = [];
    const w = await watchFrom(
      '/api/v1/namespaces/w/configmaps',
      { resourceVersion: list.metadata!.resourceVersion! },
      seen,
    );
    await w.done;
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } });
    const bad = await raw(sandbox, 'GET', '/api/v1/namespaces/w/configmaps?watch=1&resourceVersion=abc');
    expect(bad.status).toBe(400);
  });
});

describe('makeInformer', () => {
  it('survives a dropped watch and relists after a 410', async () => {
    await core.createNamespace({ body: { metadata: { name: 'inf' } } });
    let lists = 0;
    const informer = makeInformer<V1ConfigMap & KubernetesObject>(
      sandbox.kubeConfig(),
      '/api/v1/namespaces/inf/configmaps',
      () => {
        lists += 1;
        return core.listNamespacedConfigMap({ namespace: 'inf' });
      },
    );
    const errors: unknown[] = [];
    informer.on('error', (e) => errors.push(e));
    await informer.start();
    const names = (): string[] =>
      informer
        .list('inf')
        .map((o) => o.metadata!.name!)
        .sort();
    await core.createNamespacedConfigMap({ namespace: 'inf', body: { metadata: { name: 'a' } } });
    await waitFor(() => names().includes('a'), 5000, 'a in the cache');
    expect(lists).toBe(1);

    expect(sandbox.faults.dropWatches()).toBeGreaterThanOrEqual(1);
    await core.createNamespacedConfigMap({ namespace: 'inf', body: { metadata: { name: 'b' } } });
    await waitFor(() => names().includes('b'), 5000, 'b after the dropped watch');
    expect(lists).toBe(1);

    // A write elsewhere moves the resourceVersion past the informer's, then history is compacted:
    // the informer's next watch gets 410 and it must relist to see the changes made meanwhile.
    await core.createNamespacedSecret({ namespace: 'inf', body: { metadata: { name: 'elsewhere' } } });
    sandbox.faults.compact();
    // drop the watch and change things in the same turn of the event loop: the informer is not watching
    sandbox.faults.dropWatches();
    const configmaps = sandbox.api.registry.get('', 'configmaps')!;
    sandbox.api.delete({ type: configmaps, namespace: 'inf', name: 'a' });
    sandbox.api.create(
      { type: configmaps, namespace: 'inf' },
      { metadata: { name: 'c' } },
      { user: { username: 'test', groups: [] } },
    );
    await waitFor(() => names().join() === 'b,c' && names(), 5000, 'the relisted cache');
    expect(lists).toBe(2);
    expect(errors).toEqual([]);
    await informer.stop();
  });
});
