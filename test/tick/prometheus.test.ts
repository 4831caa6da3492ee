import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '@kubestead/sandbox';
import { prometheusTestsEnabled, startPrometheus, type PrometheusHarness } from '../metrics/prometheus-harness.js';
import { fixture, imageOf, tickSandbox } from './support.js';

/**
 * The two stories of the issue against the real Prometheus (scraping the harness's exporter, whose
 * canary 5xx ratio is 1/11 ≈ 0.091): a good release under a max of 0.2, a breach under 0.05.
 */
describe.runIf(prometheusTestsEnabled())('with the real Prometheus', () => {
  let sandbox: Sandbox;
  let prom: PrometheusHarness;

  beforeAll(async () => {
    [sandbox, prom] = await Promise.all([tickSandbox(), startPrometheus()]);
  }, 60_000);
  afterAll(async () => {
    await prom?.stop();
    await sandbox?.close();
  });

  const spec = (max: number) => ({
    interval: '5s',
    steps: [
      { weight: 20, soak: '5s' },
      { weight: 50, soak: '5s' },
    ],
    providers: { prom: { prometheus: { address: prom.url } } },
    checks: [
      {
        name: 'error-rate',
        provider: 'prom',
        max,
        query:
          'sum(rate(http_requests_total{app="checkout",track="canary",code=~"5.."}[30s])) / sum(rate(http_requests_total{app="checkout",track="canary"}[30s]))',
      },
    ],
  });

  // The controller's clock starts now and moves ahead of the wall clock by at most a few soaks, so
  // that the 30 s windows of its queries still hold what Prometheus has scraped.
  const start = () => Date.now();

  it('a good release walks every step to Succeeded and primary runs the new image', async () => {
    const f = await fixture(sandbox, { start: start() });
    await f.startCanary(spec(0.2));
    const done = await f.tickUntil((s) => s.phase === 'Succeeded', 5_000);
    expect(done.phase).toBe('Succeeded');
    expect(imageOf(await f.deployment('app-primary'))).toBe('app:2');
    const advanced = (await f.events('RolloutPolicy')).filter((e) => e.reason === 'Advanced').map((e) => e.message);
    expect(advanced).toHaveLength(1);
    expect(advanced[0]).toMatch(
      /^advanced to step 2\/2 \(weight 50%\): step 1\/2 soaked \d+(\.\d+)?s of 5s with every check in bounds$/,
    );
  });

  it('a breach rolls back within one tick: canary 0, primary unchanged, an Event with the value', async () => {
    const f = await fixture(sandbox, { start: start() });
    await f.startCanary(spec(0.05));
    await f.settle();
    await f.clock.advance(1_000);
    await f.tick();
    const status = await f.status();
    expect(status).toMatchObject({ phase: 'RolledBack', canaryWeight: 0, effectiveWeight: 0 });
    expect(status.checks?.['error-rate']?.value).toBeCloseTo(1 / 11, 2);
    expect((await f.deployment('app')).spec?.replicas).toBe(0);
    expect(imageOf(await f.deployment('app-primary'))).toBe('app:1');
    const message = (await f.events('Deployment')).find((e) => e.reason === 'RolledBack')?.message ?? '';
    expect(message).toMatch(/^rolled back: error-rate = 0\.09\d* is above max 0\.05$/);
  });
});
