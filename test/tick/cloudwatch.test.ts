import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '@kubestead/sandbox';
import { fixture, tickSandbox, type TickFixture } from './support.js';
import { motoTestsEnabled, REGION, startMoto, type Moto } from '../metrics/moto-harness.js';

const MINUTE = 60_000;
/** The controller's clock starts here; the metrics are put around it. */
const T = Date.parse('2026-11-26T10:00:00Z');

/** The error rate of service `namespace` (its own dimension: each test's data is its own), one point a minute. */
async function publish(moto: Moto, namespace: string, value: number): Promise<void> {
  const points = Array.from({ length: 15 }, (_, i) => ({ value, at: new Date(T + (i - 3) * MINUTE) }));
  await moto.put('Shop', 'ErrorRate', points, [{ Name: 'Service', Value: namespace }]);
}

describe.runIf(motoTestsEnabled())('a rollout in the sandbox decided by a CloudWatch check (moto)', () => {
  let sandbox: Sandbox;
  let moto: Moto;
  beforeAll(async () => {
    [sandbox, moto] = await Promise.all([tickSandbox(), startMoto()]);
  }, 120_000);
  afterAll(async () => {
    await moto?.stop();
    await sandbox?.close();
  });

  /** Two 1-minute steps, one CloudWatch check (max 0.05) with the access key from a Secret of the namespace. */
  const spec = () => ({
    interval: '10s',
    steps: [
      { weight: 20, soak: '1m' },
      { weight: 50, soak: '1m' },
    ],
    providers: {
      cw: {
        cloudWatch: {
          region: REGION,
          endpoint: moto.url,
          accessKeyIdSecretRef: { name: 'cloudwatch', key: 'access-key-id' },
          secretAccessKeySecretRef: { name: 'cloudwatch', key: 'secret-access-key' },
        },
      },
    },
    checks: [
      {
        name: 'errors',
        provider: 'cw',
        query: JSON.stringify([
          {
            Id: 'errors',
            MetricStat: {
              Metric: {
                Namespace: 'Shop',
                MetricName: 'ErrorRate',
                Dimensions: [{ Name: 'Service', Value: '{{ target.namespace }}' }],
              },
              Period: 60,
              Stat: 'Average',
            },
          },
        ]),
        value: 'errors',
        max: 0.05,
      },
    ],
  });

  async function canary(errorRate: number): Promise<TickFixture> {
    const f = await fixture(sandbox, { start: T });
    await f.core.createNamespacedSecret({
      namespace: f.namespace,
      body: {
        metadata: { name: 'cloudwatch' },
        stringData: {
          'access-key-id': moto.credentials.accessKeyId,
          'secret-access-key': moto.credentials.secretAccessKey,
        },
      },
    });
    await publish(moto, f.namespace, errorRate);
    await f.startCanary(spec());
    return f;
  }

  it('good data: the canary is promoted', async () => {
    const f = await canary(0.01);
    const status = await f.tickUntil((s) => s.phase === 'Succeeded' || s.phase === 'RolledBack', 10_000);
    expect(status.phase, JSON.stringify(status.lastDecision)).toBe('Succeeded');
    expect(status.checks?.errors).toMatchObject({ status: 'ok', value: 0.01 });
  });

  it('breaching data: the canary is rolled back, by the check', async () => {
    const f = await canary(0.3);
    const status = await f.tickUntil((s) => s.phase === 'Succeeded' || s.phase === 'RolledBack', 10_000);
    expect(status.phase).toBe('RolledBack');
    expect(status.lastDecision?.reasons[0]).toMatchObject({ rule: 'check-breach', check: 'errors' });
    expect(status.lastDecision?.reasons[0]?.message).toContain('errors = 0.3 is above max 0.05');
  });
});
