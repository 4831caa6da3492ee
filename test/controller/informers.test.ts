import {
  AppsV1Api,
  AutoscalingV1Api,
  AutoscalingV2Api,
  CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
  type V1Deployment,
  type V1Pod,
  type V1ReplicaSet,
} from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../support/manual-clock.js';
import { systemClock } from '../../src/lib/clock/clock.js';
import { Backoff } from '../../src/runtime/controller/backoff.js';
import { InformerCache } from '../../src/runtime/controller/informer-cache.js';
import {
  createInformers,
  informerList,
  LIST_PAGE_SIZE,
  podForCache,
  replicaSetForCache,
  type Informers,
} from '../../src/runtime/controller/informers.js';
import type { SupervisionOptions } from '../../src/runtime/controller/informer.js';
import { silentLogger } from '../../src/lib/log/logger.js';
import type { KObject, Sandbox } from '@kubestead/sandbox';
import { waitFor } from '../support/wait.js';
import { createNamespace, createPolicy, deploymentBody, policyBody, sandboxWithCrd } from './support.js';
import { kubeClients } from '../../src/adapters/kube/clients.js';
import { usersAutoscaler } from '../../src/adapters/kube/autoscalers.js';

let sandbox: Sandbox;
let apps: AppsV1Api;
const running: Informers[] = [];

beforeAll(async () => {
  sandbox = await sandboxWithCrd({ workloads: false, bookmarkIntervalMs: 600_000 });
  apps = sandbox.client(AppsV1Api);
  for (const ns of ['a', 'b', 'c', 'd', 'e']) await createNamespace(sandbox, ns);
});
afterAll(async () => sandbox.close());
afterEach(async () => {
  sandbox.faults.clear();
  for (const informers of running.splice(0)) await Promise.all(informerList(informers).map((i) => i.stop()));
});

function start(options: Partial<SupervisionOptions> = {}, namespace?: string): InformerCache {
  const informers = createInformers(kubeClients(sandbox.kubeConfig()), namespace, {
    kubeConfig: sandbox.kubeConfig(),
    clock: systemClock,
    logger: silentLogger,
    backoff: new Backoff(20, 100),
    ...options,
  });
  running.push(informers);
  const cache = new InformerCache(informers);
  for (const informer of informerList(informers)) informer.start();
  return cache;
}

const allWatching = (cache: InformerCache): boolean => informerList(cache.informers).every((i) => i.watching());

const deploymentNames = (cache: InformerCache, ns: string): string[] =>
  cache.informers.deployments.store
    .list(ns)
    .map((d: V1Deployment) => d.metadata!.name!)
    .sort();

/** Creates `count` objects of a resource in the sandbox's store as its own controllers do, with no request. */
function seed(group: string, resource: string, count: number, body: (i: number) => Record<string, unknown>): void {
  const type = sandbox.api.registry.get(group, resource)!;
  for (let i = 0; i < count; i++) sandbox.api.createAsSystem(type, body(i) as unknown as KObject);
}

/** The cache keeps what the controller reads: a pod's metadata and status, a ReplicaSet without its template. */
function expectKeptForCache(rs: V1ReplicaSet, pods: V1Pod[]): void {
  expect(rs.spec?.template).toBeUndefined();
  expect(rs.spec?.selector?.matchLabels?.app).toBe('web');
  expect(rs.metadata?.labels?.['pod-template-hash']).toBeTruthy();
  expect(pods.map((pod) => pod.spec)).toEqual(pods.map(() => undefined));
  expect(pods.map((pod) => pod.metadata!.ownerReferences![0]!.uid)).toEqual(pods.map(() => rs.metadata!.uid));
  expect(pods.every((pod) => pod.status!.phase)).toBe(true);
}

describe('ClusterCache over supervised informers (real client-node against the sandbox)', () => {
  it('serves policies, Deployments, ReplicaSets and pods by selector, and Warning Events by object, from indexes', async () => {
    const cluster = await sandboxWithCrd();
    try {
      await createNamespace(cluster, 'a');
      await createPolicy(cluster, 'a', 'web-policy', 'web');
      const clusterApps = cluster.client(AppsV1Api);
      const clusterCore = cluster.client(CoreV1Api);
      await clusterApps.createNamespacedDeployment({ namespace: 'a', body: deploymentBody('web') });
      await clusterApps.createNamespacedDeployment({ namespace: 'a', body: deploymentBody('other') });
      const informers = createInformers(kubeClients(cluster.kubeConfig()), undefined, {
        kubeConfig: cluster.kubeConfig(),
        clock: systemClock,
        logger: silentLogger,
      });
      running.push(informers);
      const cache = new InformerCache(informers);
      for (const informer of informerList(informers)) informer.start();
      // each informer has its own watch: pods may arrive before their ReplicaSet, so wait for both
      await waitFor(
        () =>
          cache.synced() &&
          cache.replicaSets('a', { app: 'web' }).length === 1 &&
          cache.pods('a', { app: 'web' }).length === 2 &&
          cache.pods('a', { app: 'other' }).length === 2,
        8000,
        'informers synced with the ReplicaSets and pods',
      );
      expect(cache.policy({ namespace: 'a', name: 'web-policy' })?.metadata?.name).toBe('web-policy');
      expect(cache.deployment('a', 'web')?.spec?.replicas).toBe(2);
      const [rs] = cache.replicaSets('a', { app: 'web' });
      const hash = rs!.metadata!.labels!['pod-template-hash']!;
      expect(cache.replicaSets('a', { app: 'web', 'pod-template-hash': hash }).map((r) => r.metadata!.name)).toEqual([
        rs!.metadata!.name,
      ]);
      expect(cache.replicaSets('a', { app: 'web', 'pod-template-hash': 'nope' })).toEqual([]);
      expect(cache.replicaSets('b', { app: 'web' })).toEqual([]);
      const webPods = cache.pods('a', { 'pod-template-hash': hash });
      expect(webPods.map((p) => p.metadata!.labels!.app)).toEqual(['web', 'web']);
      expectKeptForCache(rs!, webPods);
      const podName = webPods[0]!.metadata!.name!;
      const involved = { kind: 'Pod', name: podName, namespace: 'a' };
      await clusterCore.createNamespacedEvent({
        namespace: 'a',
        body: {
          metadata: { name: 'e1' },
          involvedObject: involved,
          reason: 'BackOff',
          type: 'Warning',
          message: 'crash',
        },
      });
      await clusterCore.createNamespacedEvent({
        namespace: 'a',
        body: { metadata: { name: 'e2' }, involvedObject: involved, reason: 'Pulled', type: 'Normal', message: 'ok' },
      });
      const warning = await waitFor(() => cache.events('a', { kind: 'Pod', name: podName })[0]);
      expect(warning.reason).toBe('BackOff');
      // typed models, as the list returns them, also for objects that arrive by watch
      expect(warning.metadata?.creationTimestamp).toBeInstanceOf(Date);
      expect(cache.deployment('a', 'web')?.metadata?.creationTimestamp).toBeInstanceOf(Date);
      // which policies an object concerns: the target, its -primary, its ReplicaSets, pods and their Events
      const policy = [{ namespace: 'a', name: 'web-policy' }];
      expect(cache.policiesOfDeployment('a', 'web')).toEqual(policy);
      expect(cache.policiesOfDeployment('a', 'web-primary')).toEqual(policy);
      expect(cache.policiesOfReplicaSet('a', rs!.metadata!.name!)).toEqual(policy);
      expect(cache.policiesOfPod('a', podName)).toEqual(policy);
      expect(cache.policiesOfEvent(warning)).toEqual(policy);
      expect(cache.policiesOfPod('a', cache.pods('a', { app: 'other' })[0]!.metadata!.name!)).toEqual([]);
      // a new template: a second ReplicaSet and its pods appear in the index under their own hash
      // as `kubectl set image` sends it: a patch, which the Deployment controller's own status writes cannot conflict with
      const image = { spec: { template: { spec: { containers: [{ name: 'app', image: 'example/app:2' }] } } } };
      await clusterApps.patchNamespacedDeployment(
        { name: 'web', namespace: 'a', body: image },
        setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
      );
      await waitFor(() => cache.replicaSets('a', { app: 'web' }).length === 2, 8000, 'the second ReplicaSet');
      const fresh = cache
        .replicaSets('a', { app: 'web' })
        .find((r) => r.metadata!.labels!['pod-template-hash'] !== hash)!;
      const freshPods = await waitFor(
        () => {
          const pods = cache.pods('a', { 'pod-template-hash': fresh.metadata!.labels!['pod-template-hash']! });
          return pods.length > 0 && pods;
        },
        8000,
        'pods of the new ReplicaSet',
      );
      expectKeptForCache(fresh, freshPods); // the same for objects that arrive by watch
    } finally {
      for (const informers of running.splice(0)) await Promise.all(informerList(informers).map((i) => i.stop()));
      await cluster.close();
    }
  });

  it("finds a Deployment's HPA by watch, made as v2 or v1, never one Kubestead made, and forgets a deleted one", async () => {
    // a cluster of its own: the other tests count what is in theirs
    const cluster = await sandboxWithCrd({ workloads: false });
    await createNamespace(cluster, 'e');
    const informers = createInformers(kubeClients(cluster.kubeConfig()), undefined, {
      kubeConfig: cluster.kubeConfig(),
      clock: systemClock,
      logger: silentLogger,
    });
    running.push(informers);
    const cache = new InformerCache(informers);
    for (const informer of informerList(informers)) informer.start();
    await waitFor(() => cache.synced(), 8000, 'informers synced');
    await createPolicy(cluster, 'e', 'web-policy', 'web');
    const hpa = (name: string, target: string, labels?: Record<string, string>) => ({
      metadata: { name, labels },
      spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: target }, maxReplicas: 10 },
    });
    const v2 = cluster.client(AutoscalingV2Api);
    await v2.createNamespacedHorizontalPodAutoscaler({
      namespace: 'e',
      body: hpa('web-primary', 'web-primary', { 'app.kubernetes.io/managed-by': 'kubestead' }),
    });
    await cluster.client(AutoscalingV1Api).createNamespacedHorizontalPodAutoscaler({
      namespace: 'e',
      body: {
        ...hpa('web', 'web'),
        spec: { ...hpa('web', 'web').spec, minReplicas: 2, targetCPUUtilizationPercentage: 60 },
      },
    });
    await v2.createNamespacedHorizontalPodAutoscaler({ namespace: 'e', body: hpa('other', 'other') });
    const found = await waitFor(() => usersAutoscaler(cache.autoscalers('e', 'web')), 8000, "web's HPA in the cache");
    // the v1 object is watched as v2: its cpu target is a v2 metric
    expect(found.spec?.metrics?.[0]?.resource?.target.averageUtilization).toBe(60);
    expect([found.metadata?.name, found.spec?.minReplicas]).toEqual(['web', 2]);
    await waitFor(() => cache.informers.autoscalers.store.list('e').length === 3, 8000, 'all three HPAs');
    // Kubestead's own copy (on -primary) is never the user's HPA; another Deployment's is not this one's
    expect(usersAutoscaler(cache.autoscalers('e', 'web-primary'))).toBeUndefined();
    expect(cache.autoscalers('e', 'web-primary').map((h) => h.metadata?.name)).toEqual(['web-primary']);
    expect(usersAutoscaler(cache.autoscalers('e', 'other'))?.metadata?.name).toBe('other');
    expect(usersAutoscaler(cache.autoscalers('e', 'nothing'))).toBeUndefined();
    expect(cache.policiesOfAutoscaler(found)).toEqual([{ namespace: 'e', name: 'web-policy' }]);
    await v2.deleteNamespacedHorizontalPodAutoscaler({ namespace: 'e', name: 'web' });
    await waitFor(
      () => usersAutoscaler(cache.autoscalers('e', 'web')) === undefined,
      8000,
      "web's HPA gone from the cache",
    );
    for (const stopped of running.splice(0)) await Promise.all(informerList(stopped).map((i) => i.stop()));
    await cluster.close();
  });

  it('asks for bookmarks and a server-side timeout on every watch', async () => {
    sandbox.requests.clear();
    const cache = start({ watchTimeoutSeconds: 123 });
    await waitFor(() => cache.synced() && allWatching(cache));
    sandbox.faults.dropWatches(); // the sandbox logs a watch when it ends
    await waitFor(() => sandbox.requests.list({ method: 'GET' }).filter((r) => /watch=true/.test(r.query)).length >= 5);
    const watches = sandbox.requests.list({ method: 'GET' }).filter((r) => /watch=true/.test(r.query));
    for (const w of watches) {
      expect(w.query).toContain('allowWatchBookmarks=true');
      expect(w.query).toContain('timeoutSeconds=123');
    }
    expect(watches.find((w) => w.path === '/api/v1/events')?.query).toContain('fieldSelector=type%3DWarning');
  });

  it('restarts an informer whose re-watch failed (client-node gives up after one 503), and sees what changed meanwhile', async () => {
    const cache = start();
    await waitFor(() => cache.synced() && allWatching(cache));
    const deployments = cache.informers.deployments;
    sandbox.faults.inject({ method: 'GET', path: '/apis/apps/v1/deployments', respond: 503, times: 3 });
    expect(sandbox.faults.dropWatches()).toBeGreaterThanOrEqual(5);
    await waitFor(() => deployments.restarts >= 1, 8000, 'a restart');
    await apps.createNamespacedDeployment({ namespace: 'b', body: deploymentBody('after-503') });
    await waitFor(() => deploymentNames(cache, 'b').includes('after-503'), 8000, 'the new Deployment');
    expect(sandbox.faults.pending()).toBe(0);
    await waitFor(() => cache.synced());
  });

  it('restarts after an abrupt reset of every watch', async () => {
    const cache = start();
    await waitFor(() => cache.synced() && allWatching(cache));
    sandbox.faults.inject({ method: 'GET', path: '/api/v1/pods', respond: 500, times: 1 });
    sandbox.faults.dropWatches({ abrupt: true });
    await apps.createNamespacedDeployment({ namespace: 'c', body: deploymentBody('after-reset') });
    await waitFor(() => deploymentNames(cache, 'c').includes('after-reset'), 8000, 'the new Deployment');
    await waitFor(() => cache.informers.pods.restarts >= 1, 8000, 'the pod informer restarted');
    await waitFor(() => cache.synced());
  });

  it('relists after 410 Gone: objects created and deleted while it was away are right in the cache', async () => {
    const clock = new ManualClock();
    await apps.createNamespacedDeployment({ namespace: 'd', body: deploymentBody('doomed') });
    const cache = start({ clock, backoff: new Backoff(5000, 5000) }, 'd');
    await waitFor(() => deploymentNames(cache, 'd').includes('doomed') && allWatching(cache));
    const deleted: string[] = [];
    cache.informers.deployments.on('delete', (d) => deleted.push(d.metadata!.name!));
    sandbox.faults.inject({ method: 'GET', path: '/apis/apps/v1/namespaces/d/deployments', respond: 503, times: 1 });
    sandbox.faults.dropWatches();
    await waitFor(() => sandbox.faults.pending() === 0, 5000, 'the failed re-watch');
    // while the informer waits out its backoff: changes, then the history is compacted
    await apps.deleteNamespacedDeployment({ name: 'doomed', namespace: 'd' });
    await apps.createNamespacedDeployment({ namespace: 'd', body: deploymentBody('born') });
    sandbox.faults.compact();
    sandbox.requests.clear();
    await clock.advance(5000);
    await waitFor(() => deploymentNames(cache, 'd').join() === 'born', 8000, 'the relisted cache');
    expect(deleted).toEqual(['doomed']);
    const relists = sandbox.requests
      .list({ method: 'GET', path: '/apis/apps/v1/namespaces/d/deployments' })
      .filter((r) => !/watch=true/.test(r.query));
    expect(relists.length).toBeGreaterThanOrEqual(1);
  });

  it(`lists in pages of ${LIST_PAGE_SIZE} (limit and continue) into one cache, typed lists and custom resources alike, and watches on from there`, async () => {
    const core = sandbox.client(CoreV1Api);
    const involved = { kind: 'Pod', name: 'busy', namespace: 'e' };
    const count = LIST_PAGE_SIZE * 2 + 10;
    // Seeded straight into the store: what is tested is the paged list, not 1,500 creates over HTTPS.
    seed('', 'events', count, (i) => ({
      metadata: { name: `w${i}`, namespace: 'e' },
      involvedObject: involved,
      reason: 'BackOff',
      type: 'Warning',
      message: 'crash',
    }));
    seed('kubestead.io', 'rolloutpolicies', LIST_PAGE_SIZE + 1, (i) => {
      const body = policyBody(`p${i}`, `app${i}`);
      return { ...body, metadata: { name: `p${i}`, namespace: 'e' } };
    });
    sandbox.requests.clear();
    const cache = start({}, 'e');
    await waitFor(() => cache.synced() && allWatching(cache));
    expect(cache.events('e', { kind: 'Pod', name: 'busy' })).toHaveLength(count);
    expect(cache.informers.policies.store.list('e')).toHaveLength(LIST_PAGE_SIZE + 1);
    const pages = (path: string): Array<[string | null, boolean]> =>
      sandbox.requests
        .list({ method: 'GET', path })
        .filter((r) => !/watch=true/.test(r.query))
        .map((r) => [new URLSearchParams(r.query).get('limit'), new URLSearchParams(r.query).has('continue')]);
    expect(pages('/api/v1/namespaces/e/events')).toEqual([
      ['500', false],
      ['500', true],
      ['500', true],
    ]);
    expect(pages('/apis/kubestead.io/v1alpha1/namespaces/e/rolloutpolicies')).toEqual([
      ['500', false],
      ['500', true],
    ]);
    await core.createNamespacedEvent({
      namespace: 'e',
      body: {
        metadata: { name: 'after' },
        involvedObject: involved,
        reason: 'BackOff',
        type: 'Warning',
        message: 'again',
      },
    });
    await waitFor(
      () => cache.events('e', { kind: 'Pod', name: 'busy' }).length === count + 1,
      8000,
      'the event created after the list',
    );
  });

  it('restarts a watch that stays silent (no event, no bookmark) past the limit, and reports it stale meanwhile', async () => {
    const clock = new ManualClock();
    const cache = start({ clock, silentAfterMs: 10_000, checkEveryMs: 60_000 }, 'e');
    await waitFor(() => cache.synced());
    const deployments = cache.informers.deployments;
    await waitFor(() => allWatching(cache));
    await clock.advance(10_500);
    expect(deployments.staleMs()).toBeGreaterThan(10_000);
    expect(cache.synced()).toBe(false);
    expect(deployments.restarts).toBe(0);
    await clock.advance(49_500);
    await waitFor(() => deployments.restarts >= 1, 5000, 'the watchdog restart');
    await apps.createNamespacedDeployment({ namespace: 'e', body: deploymentBody('after-silence') });
    await waitFor(() => deploymentNames(cache, 'e').includes('after-silence'), 8000, 'the new Deployment');
    expect(deployments.staleMs()).toBeLessThan(10_000);
  });
});

describe('what the cache keeps of an object', () => {
  const managedFields = [
    { manager: 'kubectl', operation: 'Update', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': {} } },
  ];
  const metadata = { name: 'web-1', namespace: 'a', labels: { app: 'web' }, managedFields };

  it('a pod: its metadata without managedFields, and its status; not its spec', () => {
    const kept = podForCache({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata,
      spec: { containers: [{ name: 'app', image: 'app:1' }] },
      status: { phase: 'Running' },
    });
    expect(kept).toEqual({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web-1', namespace: 'a', labels: { app: 'web' }, managedFields: undefined },
      status: { phase: 'Running' },
    });
  });

  it('a ReplicaSet: all but its pod template and managedFields', () => {
    const selector = { matchLabels: { app: 'web' } };
    const kept = replicaSetForCache({
      metadata,
      spec: { replicas: 2, selector, template: { spec: { containers: [{ name: 'app', image: 'app:1' }] } } },
      status: { replicas: 2 },
    });
    expect(kept).toEqual({
      metadata: { ...metadata, managedFields: undefined },
      spec: { replicas: 2, selector, template: undefined },
      status: { replicas: 2 },
    });
    expect(metadata.managedFields).toBe(managedFields); // the object given is not changed
  });
});
