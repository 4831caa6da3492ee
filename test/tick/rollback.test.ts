import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/wait.js';
import { startFakePrometheus, type FakePrometheus } from './fake-prometheus.js';
import { checkedSpec, scenario } from './scenario.js';
import { imageOf, type TickFixture } from './support.js';

const env = scenario();
const servers: FakePrometheus[] = [];
afterAll(() => Promise.all(servers.map((s) => s.close())));

async function prometheus(value: number): Promise<FakePrometheus> {
  const server = await startFakePrometheus(value);
  servers.push(server);
  return server;
}

const spec = (prom: FakePrometheus, extra: Record<string, unknown> = {}) => checkedSpec(prom.url, extra);

async function expectRolledBack(f: TickFixture): Promise<void> {
  const status = await f.status();
  expect(status.phase).toBe('RolledBack');
  expect(status.canaryWeight).toBe(0);
  expect(status.effectiveWeight).toBe(0);
  expect((await f.deployment('app')).spec?.replicas).toBe(0);
  const primary = await f.deployment('app-primary');
  expect(primary.spec?.replicas).toBe(4);
  expect(imageOf(primary)).toBe('app:1');
}

describe('rollback', () => {
  it('rolls back within one tick of a breach: canary 0, primary unchanged, an Event with the values', async () => {
    const prom = await prometheus(0.001);
    const f = await env.fixture();
    await f.startCanary(spec(prom));
    await f.settle();
    prom.set(0.4);
    await f.tick();
    await expectRolledBack(f);
    const status = await f.status();
    expect(status.lastDecision?.action).toBe('rollback');
    expect(status.checks?.errors).toMatchObject({ status: 'ok', value: 0.4, max: 0.05 });
    const events = await f.events('RolloutPolicy');
    const rolledBack = events.find((e) => e.reason === 'RolledBack');
    expect(rolledBack?.type).toBe('Warning');
    expect(rolledBack?.message).toBe('rolled back: errors = 0.4 is above max 0.05');
    expect((await f.events('Deployment')).map((e) => e.reason)).toContain('RolledBack');
    // It stays rolled back until the next template change, whatever the metrics say.
    prom.set(0.001);
    await f.clock.advance(120_000);
    await f.tick();
    expect((await f.status()).phase).toBe('RolledBack');
    await f.setImage('app:3');
    await f.tick();
    expect(await f.status()).toMatchObject({ phase: 'Progressing', currentStep: 0 });
  });

  it('rolls back when metrics are unavailable (the default)', async () => {
    const prom = await prometheus(0.001);
    const f = await env.fixture();
    await f.startCanary(spec(prom));
    prom.set('down');
    await f.tick();
    await expectRolledBack(f);
    expect((await f.status()).checks?.errors?.status).toBe('unavailable');
  });

  it('with onMetricUnavailable: pause, pauses while metrics are down and resumes by itself, the soak clock stopped meanwhile', async () => {
    const prom = await prometheus(0.001);
    const f = await env.fixture();
    const started = await f.startCanary(spec(prom, { onMetricUnavailable: 'pause' }));
    await f.settle();
    await f.clock.advance(30_000);
    prom.set('down');
    await f.tick();
    expect((await f.status()).phase).toBe('Paused');
    await f.clock.advance(600_000);
    await f.tick();
    expect(await f.status()).toMatchObject({ phase: 'Paused', currentStep: 0 });
    prom.set(0.001);
    await f.clock.advance(10_000);
    await f.tick();
    const resumed = await f.status();
    expect(resumed).toMatchObject({ phase: 'Progressing', currentStep: 0, pausedSeconds: 610 });
    expect(resumed.stepStartedAt).toBe(started.stepStartedAt);
    expect(await f.eventReasons()).toEqual(expect.arrayContaining(['Paused', 'Resumed']));
    // 30 s soaked before the pause: 30 s more finish the 1 m soak.
    await f.clock.advance(29_000);
    await f.tick();
    expect((await f.status()).currentStep).toBe(0);
    await f.clock.advance(1_000);
    await f.tick();
    expect((await f.status()).currentStep).toBe(1);
  });

  it('rolls back a crash-looping canary', async () => {
    const prom = await prometheus(0.001);
    const f = await env.fixture();
    await f.adoptedBy(spec(prom), 4);
    env.sandbox.workloads?.crashLoop(f.namespace, 'app');
    await f.setImage('app:2');
    await f.tick();
    await waitFor(
      async () => {
        const pods = await f.core.listNamespacedPod({ namespace: f.namespace });
        return pods.items.some(
          (p) =>
            (p.status?.containerStatuses?.[0]?.restartCount ?? 0) > 3 && !p.metadata?.labels?.['kubestead.io/role'],
        );
      },
      10_000,
      'canary restarts above 3',
    );
    await f.tick();
    await expectRolledBack(f);
    expect((await f.status()).lastDecision?.reasons.map((r) => r.rule)).toContain('pod-health');
  });

  it('rolls back a canary that never becomes ready by the progress deadline, and never advances it meanwhile', async () => {
    const prom = await prometheus(0.001);
    const f = await env.fixture();
    await f.adoptedBy(spec(prom, { podHealth: { progressDeadline: '3m' } }), 4);
    env.sandbox.workloads?.neverReady(f.namespace, 'app');
    await f.setImage('app:2');
    await f.tick();
    await f.clock.advance(90_000);
    await f.tick();
    expect(await f.status()).toMatchObject({ phase: 'Progressing', currentStep: 0 });
    await f.clock.advance(90_000);
    await f.tick();
    await expectRolledBack(f);
    expect((await f.events('RolloutPolicy')).find((e) => e.reason === 'RolledBack')?.message).toContain(
      'past progressDeadline 180s',
    );
  });
});
