import { describe, expect, it } from 'vitest';
import type { PolicyStatus } from '../../src/pipeline/policy/status.js';
import type { CrashPoint } from '../../src/runtime/tick/crash.js';
import { SimulatedCrash, throwingCrashHook } from '../support/crash.js';
import { scenario } from './scenario.js';
import { GROUP, imageOf, MERGE, type TickFixture } from './support.js';

const env = scenario();

const spec = () =>
  env.spec({
    steps: [
      { weight: 20, soak: '1m' },
      { weight: 50, soak: '1m' },
      { weight: 80, soak: '1m' },
    ],
  });

/** Canary counts of 20, 50 and 80 % with 4 primary replicas. */
const COUNTS = [1, 4, 16];

/**
 * Drives a release to Succeeded, checking after every tick that status never claims a step whose
 * count is not live. Returns every step status showed, in order (each once), when each was started
 * (a step entered twice — repeated — has two start times) and the number of crashes.
 */
async function release(
  f: TickFixture,
): Promise<{ steps: number[]; starts: Map<number, Set<string>>; crashes: number }> {
  const seen: number[] = [];
  const starts = new Map<number, Set<string>>();
  let crashes = 0;
  for (let i = 0; i < 60; i++) {
    try {
      await f.tick();
    } catch (error) {
      if (!(error instanceof SimulatedCrash)) throw error;
      crashes++;
      f.build();
      continue;
    }
    const status: PolicyStatus = await f.status();
    if (status.phase === 'Succeeded') return { steps: seen, starts, crashes };
    if (status.phase === 'Progressing') {
      const step = status.currentStep ?? 0;
      if (seen.at(-1) !== step) seen.push(step);
      starts.set(step, (starts.get(step) ?? new Set()).add(String(status.stepStartedAt)));
      expect((await f.deployment('app')).spec?.replicas).toBe(COUNTS[step]);
    }
    await f.settle();
    await f.clock.advance(20_000);
  }
  throw new Error(`no Succeeded: ${JSON.stringify(await f.status())}`);
}

describe('restart safety (in-process: throw at a boundary, a fresh reconciler ticks on)', () => {
  it.each<[CrashPoint, number]>([
    ['after-record', 1],
    ['after-record', 2],
    ['after-actuate', 1],
    ['after-actuate', 2],
    ['after-actuate', 4],
    ['after-status', 3],
    ['after-status', 6],
  ])('a crash %s (#%i): no step repeated or skipped, the release completes', async (point, nth) => {
    const f = await env.fixture({ crash: throwingCrashHook(point, nth) });
    await f.adoptedBy(spec(), 4);
    await f.setImage('app:2');
    const { steps, starts, crashes } = await release(f);
    expect(crashes).toBe(1);
    expect(steps).toEqual([0, 1, 2]);
    // each step entered once: one start time each (a repeated step restarts its soak: a second start)
    expect([...starts.entries()].map(([step, times]) => [step, [...times].length])).toEqual([
      [0, 1],
      [1, 1],
      [2, 1],
    ]);
    expect([...starts.values()].flatMap((times) => [...times]).every((t) => !Number.isNaN(Date.parse(t)))).toBe(true);
    expect(imageOf(await f.deployment('app-primary'))).toBe('app:2');
    expect((await f.deployment('app-primary')).spec?.replicas).toBe(4);
    expect((await f.deployment('app')).spec?.replicas).toBe(0);
    const advanced = (await f.events('RolloutPolicy'))
      .filter((e) => e.reason === 'Advanced' || e.reason === 'Resumed')
      .map((e) => e.message ?? '');
    for (const step of ['2/3', '3/3'])
      expect(
        advanced.filter((m) => m.includes(`step ${step} `) || m.includes(`step ${step} (`)).length,
      ).toBeGreaterThanOrEqual(1);
  });
});

describe('optimistic concurrency', () => {
  it('a 409 on the status write is re-read and re-decided: one advance, status right', async () => {
    const f = await env.fixture();
    await f.startCanary(spec());
    await f.settle();
    await f.clock.advance(60_000);
    const fired = env.sandbox.faults.fired;
    env.sandbox.faults.inject({
      method: 'PUT',
      path: new RegExp(`/namespaces/${f.namespace}/rolloutpolicies/app/status`),
      respond: 409,
    });
    await f.tick();
    expect(env.sandbox.faults.fired).toBe(fired + 1);
    expect(await f.status()).toMatchObject({
      phase: 'Progressing',
      currentStep: 1,
      canaryReplicas: 4,
      effectiveWeight: 50,
    });
    expect((await f.deployment('app')).spec?.replicas).toBe(4);
    expect((await f.eventReasons()).filter((r) => r === 'Advanced')).toHaveLength(1);
  });

  it('another writer of the policy meanwhile: its change survives', async () => {
    const f = await env.fixture();
    await f.startCanary(spec());
    await f.settle();
    await f.cache.refresh();
    // A label added by someone else after the cache was read: the status write of the tick conflicts.
    await f.objects.patchNamespacedCustomObject(
      { ...GROUP, namespace: f.namespace, name: 'app', body: { metadata: { labels: { team: 'shop' } } } },
      MERGE,
    );
    await f.clock.advance(60_000);
    const since = Date.now();
    await f.reconciler.reconcile({ namespace: f.namespace, name: 'app' }, new AbortController().signal);
    // the conflict happened (the sandbox answered 409 itself, no injected fault), and was retried
    const statusWrites = env.sandbox.requests.list({
      path: new RegExp(`/namespaces/${f.namespace}/rolloutpolicies/app/status`),
      since,
    });
    expect(statusWrites.filter((r) => r.method !== 'GET').map((r) => [r.code, r.fault])).toEqual([
      [409, false],
      [200, false],
    ]);
    const policy = await f.policy();
    expect(policy.metadata?.labels?.team).toBe('shop');
    expect(policy.status).toMatchObject({ currentStep: 1 });
  });
});

describe('conflicts on /scale', () => {
  it('a 409 on the canary scale is re-read and written once more', async () => {
    const f = await env.fixture();
    await f.startCanary(spec());
    await f.settle();
    await f.clock.advance(60_000);
    env.sandbox.faults.inject({
      method: 'PATCH',
      path: new RegExp(`/namespaces/${f.namespace}/deployments/app/scale`),
      respond: 409,
    });
    const fired = env.sandbox.faults.fired;
    await f.tick();
    expect(env.sandbox.faults.fired).toBe(fired + 1);
    expect(await f.status()).toMatchObject({ currentStep: 1, canaryReplicas: 4 });
    expect((await f.deployment('app')).spec?.replicas).toBe(4);
  });
});

describe('an override and a crash', () => {
  it('an override consumed just before a crash is not applied again: its annotation is only removed', async () => {
    const f = await env.fixture();
    await f.startCanary(
      env.spec({ steps: [{ weight: 20, soak: '1m' }, { pause: {} }, { pause: {} }, { weight: 50, soak: '1m' }] }),
    );
    await f.settle();
    await f.tickUntil((s) => s.phase === 'Paused' && s.currentStep === 1, 60_000);
    const value = JSON.stringify({ action: 'resume', actor: 'bob', time: new Date(f.clock.now()).toISOString() });
    await f.objects.patchNamespacedCustomObject(
      {
        ...GROUP,
        namespace: f.namespace,
        name: 'app',
        body: { metadata: { annotations: { 'kubestead.io/override': value } } },
      },
      MERGE,
    );
    f.build(throwingCrashHook('after-status'));
    await f.clock.advance(10_000);
    await expect(f.tick()).rejects.toBeInstanceOf(SimulatedCrash);
    expect(await f.status()).toMatchObject({ currentStep: 2, lastOverride: { action: 'resume', actor: 'bob' } });
    expect((await f.policy()).metadata?.annotations?.['kubestead.io/override']).toBe(value);
    f.build();
    await f.clock.advance(10_000);
    await f.tick();
    expect(await f.status()).toMatchObject({ phase: 'Paused', currentStep: 2 });
    expect((await f.policy()).metadata?.annotations?.['kubestead.io/override']).toBeUndefined();
    expect((await f.eventReasons()).filter((r) => r === 'Overridden')).toHaveLength(1);
  });
});
