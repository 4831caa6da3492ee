import { describe, expect, it } from 'vitest';
import { TerminalError } from '../../src/runtime/controller/reconciler.js';
import { startFakePrometheus } from './fake-prometheus.js';
import { scenario } from './scenario.js';
import { mintSecret } from '../support/secrets.js';

const env = scenario();

const spec = (extra: Record<string, unknown> = {}) => env.spec({ onMetricUnavailable: 'pause', ...extra });

describe('bad input', () => {
  it("an invalid policy: Ready=False with validate's messages, one InvalidPolicy Event, a terminal error, no action", async () => {
    const f = await env.fixture();
    await f.createDeployment('app', 'app:1', 2);
    await f.applyPolicy(
      spec({
        steps: [{ weight: 50 }, { weight: 20 }],
        checks: [{ name: 'errors', provider: 'nope', query: 'up', max: 1 }],
      }),
    );
    await expect(f.tick()).rejects.toBeInstanceOf(TerminalError);
    const ready = (await f.status()).conditions?.find((c) => c.type === 'Ready');
    expect(ready).toMatchObject({ status: 'False', reason: 'InvalidPolicy', observedGeneration: 1 });
    expect(ready?.message).toContain('spec.steps[1].weight: weights must ascend: 20 is not above 50 (steps[0])');
    expect(ready?.message).toContain('spec.checks[0].provider: unknown provider "nope"; providers are prom');
    const since = Date.now();
    await expect(f.tick()).rejects.toBeInstanceOf(TerminalError);
    expect((await f.eventReasons()).filter((r) => r === 'InvalidPolicy')).toHaveLength(1);
    expect(env.sandbox.requests.list({ since }).filter((r) => r.method !== 'GET')).toEqual([]);
    await expect(f.deployment('app-primary')).rejects.toThrow();
  });

  it('a missing target: Ready=False TargetMissing, picked up once the Deployment appears', async () => {
    const f = await env.fixture();
    await f.applyPolicy(spec());
    const result = await f.tick();
    expect(result.requeueAfterMs).toBe(10_000);
    expect((await f.status()).conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'TargetMissing',
      message: `Deployment ${f.namespace}/app not found`,
    });
    expect(await f.eventReasons()).toContain('TargetMissing');
    await f.createDeployment('app', 'app:1', 2);
    await f.settle();
    const adopted = await f.adopt();
    expect(adopted.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
  });

  it('a Deployment selected by two policies: the second is refused with a clear condition', async () => {
    const f = await env.fixture();
    await f.adoptedBy(spec(), 2);
    await f.applyPolicy(spec(), 'other');
    await f.tick('other');
    const ready = (await f.status('other')).conditions?.find((c) => c.type === 'Ready');
    expect(ready).toMatchObject({ status: 'False', reason: 'TargetClaimed' });
    expect(ready?.message).toBe(
      `Deployment ${f.namespace}/app is already managed by RolloutPolicy ${f.namespace}/app; a Deployment can have one policy`,
    );
    expect((await f.deployment('app-primary')).metadata?.ownerReferences?.map((r) => r.name)).toEqual(['app']);
  });

  it('a missing Secret makes the check unavailable with a message naming it, never an advance; the value never leaves', async () => {
    const f = await env.fixture();
    await f.startCanary(
      spec({
        providers: {
          prom: { prometheus: { address: env.prom.url, bearerTokenSecretRef: { name: 'prom-token', key: 'token' } } },
        },
      }),
    );
    await f.settle();
    await f.clock.advance(120_000);
    await f.tick();
    const status = await f.status();
    expect(status).toMatchObject({ phase: 'Paused', currentStep: 0 });
    expect(status.checks?.errors?.status).toBe('unavailable');
    expect(status.checks?.errors?.error).toContain(`secret ${f.namespace}/prom-token key "token": Secret not found`);
    const token = mintSecret('prom-token');
    await f.core.createNamespacedSecret({
      namespace: f.namespace,
      body: { metadata: { name: 'prom-token' }, stringData: { token } },
    });
    await f.clock.advance(60_000);
    await f.tick();
    expect(await f.status()).toMatchObject({ phase: 'Progressing' });
    expect(env.prom.server.requests.at(-1)?.headers.authorization).toBe(`Bearer ${token}`);
    const shown = JSON.stringify([await f.policy(), await f.events('RolloutPolicy'), await f.events('Deployment')]);
    expect(shown).not.toContain(token);
  });

  it('a provider answering garbage: unavailable with a message, never a crash, never an advance', async () => {
    const bad = await startFakePrometheus(0.001);
    try {
      const f = await env.fixture();
      await f.startCanary(spec({ providers: { prom: { prometheus: { address: bad.url } } } }));
      await f.settle();
      bad.set('garbage');
      await f.clock.advance(120_000);
      await f.tick();
      const status = await f.status();
      expect(status).toMatchObject({ phase: 'Paused', currentStep: 0 });
      expect(status.checks?.errors?.error).toMatch(/^prometheus http:\/\/127\.0\.0\.1:\d+: .+/);
      expect((await f.events('RolloutPolicy')).find((e) => e.reason === 'Paused')?.message).toContain(
        'errors is unavailable',
      );
    } finally {
      await bad.close();
    }
  });
});
