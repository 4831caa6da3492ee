import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import type { Sandbox } from '@kubestead/sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POLICY_RESOURCE } from '../../src/adapters/kube/names.js';
import { createLogger } from '../../src/lib/log/logger.js';
import { actionIdOf } from '../../src/pipeline/record/audit/entry.js';
import { AuditRecorder } from '../../src/pipeline/record/audit/index.js';
import type { PolicyRef } from '../../src/pipeline/record/recorder.js';
import { auditSandbox } from '../audit/cluster.js';
import { recordOf } from '../audit/records.js';
import { ManualClock } from '../support/manual-clock.js';
import { waitFor } from '../support/wait.js';
import { CLEAN, deliveryReport } from './deliveries.js';
import { Receiver } from './receiver.js';

const NS = 'burst';
const SIGNING = `whsec_${randomBytes(32).toString('base64')}`;
const TOKEN = `BURSTTOKEN${randomBytes(8).toString('hex')}`;
const BURST = 25;

async function policyWithWebhook(sandbox: Sandbox): Promise<PolicyRef> {
  const body = {
    apiVersion: 'kubestead.io/v1alpha1',
    kind: 'RolloutPolicy',
    metadata: { name: 'flapping', namespace: NS },
    spec: {
      targetRef: { kind: 'Deployment', name: 'flapping' },
      steps: [{ weight: 5 }, { weight: 25 }, { weight: 50 }, { weight: 75 }],
      notifications: [
        {
          name: 'pager',
          webhook: { urlSecretRef: { name: 'hooks', key: 'url' }, secretRef: { name: 'hooks', key: 'signing' } },
        },
      ],
    },
  };
  const created = (await sandbox
    .client(CustomObjectsApi)
    .createNamespacedCustomObject({ ...POLICY_RESOURCE, namespace: NS, body })) as {
    metadata: { uid: string; generation: number };
  };
  return { namespace: NS, name: 'flapping', uid: created.metadata.uid, generation: created.metadata.generation };
}

// The documented limit (docs/notifications.md): one message a second, 20 in any 60 s, the excess waits in order.
describe('the rate limit per destination, end to end on the injected clock', { timeout: 120_000 }, () => {
  let sandbox: Sandbox;
  let receiver: Receiver;
  beforeAll(async () => {
    sandbox = await auditSandbox();
    receiver = await new Receiver().start();
    const core = sandbox.client(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: NS } } });
    await core.createNamespacedSecret({
      namespace: NS,
      body: {
        metadata: { name: 'hooks' },
        stringData: { url: `${receiver.url}/pager?token=${TOKEN}`, signing: SIGNING },
      },
    });
  });
  afterAll(async () => {
    await receiver?.close();
    await sandbox?.close();
  });

  it(`a burst of ${BURST} events: 20 go out a second apart, the rest after the minute, in order, none lost or repeated`, async () => {
    const clock = new ManualClock();
    const start = clock.now();
    const policy = await policyWithWebhook(sandbox);
    const out = new PassThrough();
    let logged = '';
    out.on('data', (c: Buffer) => (logged += c.toString()));
    const recorder = new AuditRecorder(sandbox.kubeConfig(), clock, createLogger({ stream: out, level: 'debug' }), {
      notifications: { timeoutMs: 5000 },
    });
    const records = Array.from({ length: BURST }, (_, i) =>
      recordOf('advance', i % 4, i, { policy, revision: `rev-${i}` }),
    );
    /** When (ms after start, on the injected clock) each message was accepted, in arrival order. */
    const sentAt: number[] = [];
    const accepted = () => receiver.accepted('/pager').length;
    try {
      // The whole burst is stored at once: no time passes on the clock while the chain grows.
      for (const record of records) await recorder.record(record);
      while (sentAt.length < BURST) {
        // The notifier sends what the limit allows now, then sleeps on the clock until the next one may go.
        await waitFor(
          () => accepted() > sentAt.length && (accepted() === BURST || clock.waiting > 0),
          10_000,
          () => `message ${sentAt.length + 1} at +${clock.now() - start} ms (${accepted()} accepted)`,
        );
        expect(accepted(), `at +${clock.now() - start} ms: one message per wake`).toBe(sentAt.length + 1);
        sentAt.push(clock.now() - start);
        if (sentAt.length < BURST) await clock.advance(clock.nextWake! - clock.now());
      }
      await recorder.deliveriesIdle();
      expect(recorder.notificationHealth(policy)).toMatchObject({ degraded: false, destinations: 1 });
    } finally {
      await recorder.stop();
    }
    const expectedTimes = [
      ...Array.from({ length: 20 }, (_, i) => i * 1000),
      ...Array.from({ length: BURST - 20 }, (_, i) => 60_000 + i * 1000),
    ];
    expect(sentAt).toEqual(expectedTimes);
    // Each message is signed at the moment it left: its webhook-timestamp is the injected clock's, in seconds.
    const messages = receiver.accepted('/pager');
    expect(messages.map((m) => Number(m.headers['webhook-timestamp']))).toEqual(
      expectedTimes.map((t) => Math.floor((start + t) / 1000)),
    );
    const pager = receiver.received.filter((r) => r.path.startsWith('/pager'));
    expect(deliveryReport(records.map(actionIdOf), pager, 0)).toEqual(CLEAN);
    expect(pager.map((r) => r.status)).toEqual(Array<number>(BURST).fill(200));
    // No secret in the log (at debug) or in any message received.
    const outputs = [logged, ...messages.map((m) => JSON.stringify(m))].join('\n');
    for (const secret of [TOKEN, SIGNING, SIGNING.slice('whsec_'.length)]) expect(outputs).not.toContain(secret);
    expect(logged).not.toContain(receiver.url);
  });
});
