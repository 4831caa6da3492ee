import { describe, expect, it } from 'vitest';
import { waitFor } from '../support/wait.js';
import { scenario } from './scenario.js';
import { GROUP, imageOf, MERGE } from './support.js';
import { serving, watchPods } from '../support/capacity.js';

const env = scenario();

/** The writes (not GET) of the namespace's objects since a time, as `METHOD path`. */
function writesIn(namespace: string, since: number): string[] {
  return env.sandbox.requests
    .list({ since })
    .filter((r) => r.method !== 'GET' && r.path.includes(`/namespaces/${namespace}/`))
    .map((r) => `${r.method} ${r.path}`);
}

const spec = (extra: Record<string, unknown> = {}) => env.spec(extra);

describe('changes of the target and the policy', () => {
  it('a new template during the canary restarts the analysis at step 0 and says so', async () => {
    const f = await env.fixture();
    const first = await f.startCanary(spec());
    await f.tickUntil((s) => s.currentStep === 1, 30_000);
    await f.setImage('app:3');
    await f.clock.advance(10_000);
    await f.tick();
    const status = await f.status();
    expect(status).toMatchObject({ phase: 'Progressing', currentStep: 0, canaryWeight: 20 });
    expect(status.canaryRevision).not.toBe(first.canaryRevision);
    const restarted = (await f.events('RolloutPolicy')).find((e) => e.reason === 'Restarted');
    expect(restarted?.message).toMatch(/the analysis restarts at step 1\/\d+$/);
    expect(restarted?.message).toContain(`was ${first.canaryRevision ?? ''}`);
    expect((await f.deployment('app')).spec?.replicas).toBe(1);
  });

  it('a change of the target replicas is a scale, not a release', async () => {
    const f = await env.fixture();
    await f.adoptedBy(spec(), 4);
    await f.apps.patchNamespacedDeploymentScale(
      { namespace: f.namespace, name: 'app', body: { spec: { replicas: 6 } } },
      MERGE,
    );
    await f.tick();
    expect((await f.deployment('app-primary')).spec?.replicas).toBe(6);
    expect((await f.deployment('app')).spec?.replicas).toBe(0);
    expect(await f.status()).toMatchObject({ phase: 'Idle' });
    expect(await f.eventReasons()).toContain('Scaled');
    // During a canary: primary takes the count, the target goes back to its canary count for it.
    await f.settle();
    await f.setImage('app:2');
    await f.tick();
    await f.apps.patchNamespacedDeploymentScale(
      { namespace: f.namespace, name: 'app', body: { spec: { replicas: 8 } } },
      MERGE,
    );
    await f.clock.advance(10_000);
    await f.tick();
    expect((await f.deployment('app-primary')).spec?.replicas).toBe(8);
    expect((await f.deployment('app')).spec?.replicas).toBe(2);
    expect(await f.status()).toMatchObject({
      phase: 'Progressing',
      currentStep: 0,
      canaryReplicas: 2,
      effectiveWeight: 20,
    });
  });

  it('an idle policy costs no API write per tick', async () => {
    const f = await env.fixture();
    await f.adoptedBy(spec(), 2);
    await f.tick();
    const since = Date.now();
    for (let i = 0; i < 5; i++) {
      await f.clock.advance(10_000);
      await f.tick();
    }
    expect(f.observer.ticks).toBeGreaterThanOrEqual(5);
    expect(writesIn(f.namespace, since)).toEqual([]);
  });

  it('a progressing policy writes its status at most once a tick, only when something shown changed, and nothing else of the policy', async () => {
    const f = await env.fixture();
    await f.startCanary(spec({ steps: [{ weight: 20, soak: '10m' }] }));
    await f.settle();
    const statusPut = `PUT /apis/kubestead.io/v1alpha1/namespaces/${f.namespace}/rolloutpolicies/app/status`;
    const tickWrites = async (): Promise<string[]> => {
      const since = Date.now();
      await f.clock.advance(10_000);
      await f.tick();
      return writesIn(f.namespace, since).filter((w) => w.includes('/rolloutpolicies/'));
    };
    // The first tick after the start shows the check's value for the first time.
    expect(await tickWrites()).toEqual([statusPut]);
    // Holding with the same value: only the sample time is new, and that alone is not written.
    for (let i = 0; i < 3; i++) expect(await tickWrites()).toEqual([]);
    try {
      env.prom.set(0.002);
      expect(await tickWrites()).toEqual([statusPut]);
      expect((await f.status()).checks?.errors).toMatchObject({ status: 'ok', value: 0.002 });
      expect(await tickWrites()).toEqual([]);
    } finally {
      env.prom.set(0.001);
    }
  });

  it('deleting the policy mid-canary rolls back, then hands back the stable template at primary count; stable serves throughout', async () => {
    const f = await env.fixture();
    await f.startCanary(spec());
    await f.settle();
    expect(imageOf(await f.deployment('app'))).toBe('app:2');
    // Serving pods of the stable template (app:1), after every change to any pod: never none.
    const stable = await watchPods(
      env.sandbox,
      f.namespace,
      (pods) => pods.filter((p) => serving(p) && p.spec?.containers[0]?.image === 'app:1').length,
    );
    await f.objects.deleteNamespacedCustomObject({ ...GROUP, namespace: f.namespace, name: 'app' });
    for (let i = 0; i < 20; i++) {
      const gone = await f.objects.getNamespacedCustomObject({ ...GROUP, namespace: f.namespace, name: 'app' }).then(
        () => false,
        () => true,
      );
      if (gone) break;
      await f.tick();
      await f.settle();
    }
    await waitFor(
      () =>
        f.apps.readNamespacedDeployment({ namespace: f.namespace, name: 'app-primary' }).then(
          () => false,
          () => true,
        ),
      5000,
      'primary deleted',
    );
    const target = await f.deployment('app');
    expect(target.spec?.replicas).toBe(4);
    expect(imageOf(target)).toBe('app:1');
    await f.settle();
    // primary's pods go after primary (garbage collection): then only the handed-back ones serve
    await waitFor(
      () => stable.samples.at(-1) === 4,
      10_000,
      () => `4 stable pods serving, not ${stable.samples.at(-1)}`,
    );
    const samples = await stable.stop();
    expect(samples[0]).toBe(4);
    expect(Math.min(...samples)).toBeGreaterThan(0);
    expect(samples.at(-1)).toBe(4);
    const events = await f.events('Deployment');
    const rolledBack = events.find((e) => e.reason === 'HandBackRollback');
    expect(rolledBack?.message).toContain('the canary (app=app:2) was not verified; rolled back');
    expect(rolledBack?.message).toContain('gets the stable template (app=app:1) back');
    const handedBack = events.find((e) => e.reason === 'HandedBack');
    expect(handedBack?.message).toContain('runs its own template (app=app:1) at 4 replicas');
  });

  it('deleting the policy while idle hands the workload back unchanged: no rollback', async () => {
    const f = await env.fixture();
    await f.adoptedBy(spec(), 3);
    await f.objects.deleteNamespacedCustomObject({ ...GROUP, namespace: f.namespace, name: 'app' });
    await waitFor(
      async () => {
        await f.tick();
        await f.settle();
        return f.apps.readNamespacedDeployment({ namespace: f.namespace, name: 'app-primary' }).then(
          () => false,
          () => true,
        );
      },
      10_000,
      'primary deleted',
    );
    const target = await f.deployment('app');
    expect([target.spec?.replicas, imageOf(target)]).toEqual([3, 'app:1']);
    const reasons = (await f.events('Deployment')).map((e) => e.reason);
    expect(reasons).toContain('HandedBack');
    expect(reasons).not.toContain('HandBackRollback');
  });

  it('shadow mode decides and records "would have" but changes no live object', async () => {
    const f = await env.fixture();
    await f.createDeployment('app', 'app:1', 3);
    await f.settle();
    await f.applyPolicy(spec({ mode: 'shadow' }));
    await f.tick();
    expect(await f.status()).toMatchObject({ phase: 'Idle' });
    await f.setImage('app:2');
    await f.settle();
    const since = Date.now();
    const status = await f.tickUntil((s) => s.phase === 'Succeeded', 30_000);
    expect(status.phase).toBe('Succeeded');
    const reasons = await f.eventReasons();
    expect(reasons).toEqual(expect.arrayContaining(['CanaryStarted', 'WouldAdvance', 'WouldPromote']));
    expect((await f.events('RolloutPolicy')).find((e) => e.reason === 'WouldAdvance')?.message).toMatch(
      /^would have advanced to step 2\//,
    );
    expect(
      writesIn(f.namespace, since).filter((w) => !w.includes('/rolloutpolicies/') && !w.includes('/events')),
    ).toEqual([]);
    await expect(f.deployment('app-primary')).rejects.toThrow();
    expect((await f.deployment('app')).spec?.replicas).toBe(3);
    expect((await f.policy()).metadata?.finalizers ?? []).not.toContain('kubestead.io/finalizer');
  });
});
