import type { Sandbox } from '@kubestead/sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prometheusTestsEnabled, servePrometheusData, type RecordedPrometheus } from '../metrics/prometheus-harness.js';
import { fixture, tickSandbox } from './support.js';

/**
 * A comparison check in a rollout in the sandbox, against the real Prometheus serving two recorded
 * series a canary: primary's latency, and the canary's. `same` is primary's distribution again;
 * `slow` is twice as slow from T0 on. The controller's clock starts inside the recording.
 */
const T0 = Date.parse('2026-11-03T09:00:00Z');
const MIN = 60_000;
const SCRAPE = 15_000;

/** A latency around `base` that varies by a few percent from sample to sample (deterministic). */
const jitter = (t: number, base: number) => base * (1 + 0.05 * Math.sin(t / SCRAPE) + 0.02 * Math.cos(t / 7919));

function timeline(): string {
  const lines = ['# TYPE latency gauge'];
  for (let t = T0 - 20 * MIN; t <= T0 + 30 * MIN; t += SCRAPE) {
    const s = t / 1000;
    lines.push(`latency{track="primary"} ${jitter(t, 0.1)} ${s}`);
    lines.push(`latency{track="canary",build="same"} ${jitter(t + 3 * SCRAPE, 0.1)} ${s}`);
    lines.push(`latency{track="canary",build="slow"} ${jitter(t, t >= T0 ? 0.2 : 0.1)} ${s}`);
  }
  return `${lines.join('\n')}\n# EOF\n`;
}

const spec = (address: string, build: string) => ({
  interval: '10s',
  steps: [
    { weight: 20, soak: '30s' },
    { weight: 50, soak: '30s' },
  ],
  providers: { prom: { prometheus: { address } } },
  checks: [
    {
      name: 'latency',
      provider: 'prom',
      compare: {
        canary: `latency{track="canary",build="${build}"}`,
        primary: 'latency{track="primary"}',
        window: '5m',
        step: '15s',
      },
      direction: 'increase',
    },
  ],
});

describe.runIf(prometheusTestsEnabled())('a comparison check in a sandbox rollout (the real Prometheus)', () => {
  let prometheus: RecordedPrometheus;
  let sandbox: Sandbox;

  beforeAll(async () => {
    [prometheus, sandbox] = await Promise.all([servePrometheusData(timeline()), tickSandbox()]);
  }, 60_000);
  afterAll(async () => {
    await sandbox?.close();
    await prometheus?.stop();
  });

  it('a canary like primary is promoted, its shift from primary near zero in status', async () => {
    const f = await fixture(sandbox, { start: T0 + 10 * MIN });
    await f.startCanary(spec(prometheus.url, 'same'));
    const status = await f.tickUntil((s) => s.phase === 'Succeeded', 10_000);
    expect(status.lastDecision?.action).toBe('promote');
    expect(status.checks?.latency).toMatchObject({ status: 'ok' });
    expect(Math.abs(status.checks?.latency?.value ?? Infinity)).toBeLessThan(0.01);
  });

  it('a canary twice as slow is rolled back at the first tick, the test and the shift in the reason', async () => {
    const f = await fixture(sandbox, { start: T0 + 10 * MIN });
    await f.startCanary(spec(prometheus.url, 'slow'));
    const status = await f.tickUntil((s) => s.phase === 'RolledBack', 10_000, 3);
    const reason = status.lastDecision?.reasons[0];
    expect(reason).toMatchObject({ rule: 'check-breach', check: 'latency' });
    expect(reason?.message).toMatch(
      /^latency: the canary is higher than primary \(shift 0\.\d+, .* p = [\d.e-]+ < 0\.02\)$/,
    );
    expect((await f.deployment('app')).spec?.replicas).toBe(0);
  });
});
