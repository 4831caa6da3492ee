import { Writable } from 'node:stream';
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditRecorder } from '../../src/pipeline/record/audit/index.js';
import { systemClock } from '../../src/lib/clock/clock.js';
import { createLogger } from '../../src/lib/log/logger.js';
import type { Sandbox } from '@kubestead/sandbox';
import { waitFor } from '../support/wait.js';
import { auditSandbox, createPolicy } from './cluster.js';
import { recordOf } from './records.js';
import { newSecret, TestReceiver } from './receiver.js';

/** No recognisable secret value reaches an entry, a report, a cursor, a webhook body, a log line or a health message. */
describe('secrets never leave', () => {
  let sandbox: Sandbox;
  const receivers = [new TestReceiver(), new TestReceiver()];
  let logs = '';
  const hmac = newSecret();
  const splunkHmac = newSecret();
  const token = 'splunk-token-CANARY-7f3a9c1e';
  const badSecret = 'whsec_%%CANARY-NOT-BASE64-d41d8c%%';
  const secrets = [hmac, hmac.slice(6), splunkHmac, splunkHmac.slice(6), token, badSecret, 'CANARY'];

  beforeAll(async () => {
    sandbox = await auditSandbox();
  });
  afterAll(async () => {
    await Promise.all(receivers.map((r) => r.close()));
    await sandbox?.close();
  });

  it('through a whole rollout with a rollback, two destinations and a bad secret', async () => {
    const [policyUrl, splunkUrl] = (await Promise.all(receivers.map((r) => r.start()))) as [string, string];
    const core = sandbox.client(CoreV1Api);
    const policy = await createPolicy(sandbox, 'vault', 'checkout', {
      webhook: { url: policyUrl, secretRef: { name: 'siem', key: 'hmac' } },
    });
    await core.createNamespace({ body: { metadata: { name: 'kubestead' } } });
    await core.createNamespacedSecret({
      namespace: 'vault',
      body: { metadata: { name: 'siem' }, stringData: { hmac, bad: badSecret } },
    });
    await core.createNamespacedSecret({
      namespace: 'kubestead',
      body: { metadata: { name: 'splunk' }, stringData: { hmac: splunkHmac, token } },
    });
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logs += chunk.toString();
        done();
      },
    });
    const recorder = new AuditRecorder(sandbox.kubeConfig(), systemClock, createLogger({ level: 'debug', stream }), {
      webhook: {
        url: splunkUrl,
        format: 'splunk',
        secretRef: { namespace: 'kubestead', name: 'splunk', key: 'hmac' },
        tokenSecretRef: { namespace: 'kubestead', name: 'splunk', key: 'token' },
      },
      delivery: { baseBackoffMs: 10, maxBackoffMs: 50 },
    });
    const records = [
      recordOf('advance', 0, 1, { policy }),
      recordOf('advance', 1, 2, { policy }),
      recordOf('rollback', 2, 3, { policy }),
    ];
    let report: string | undefined;
    for (const record of records) report = (await recorder.record(record)).report ?? report;
    expect(report).toBeDefined();
    await waitFor(
      () =>
        receivers.every(
          (r) => r.ingested.length > 0 && r.requests.reduce((n, q) => n + q.body.split('"seq":').length - 1, 0) >= 3,
        ),
      8000,
      'deliveries',
    );
    expect(receivers[1]!.requests[0]!.headers.authorization).toBe(`Splunk ${token}`);

    const bad = await createPolicy(sandbox, 'vault', 'bad-secret', {
      webhook: { url: policyUrl, secretRef: { name: 'siem', key: 'bad' } },
    });
    const missing = await createPolicy(sandbox, 'vault', 'missing-secret', {
      webhook: { url: policyUrl, secretRef: { name: 'siem', key: 'nope' } },
    });
    await recorder.record(recordOf('pause', 0, 4, { policy: bad }));
    await recorder.record(recordOf('pause', 0, 5, { policy: missing }));
    await waitFor(
      () =>
        logs.includes('not a Standard Webhooks secret') &&
        logs.includes('secret vault/siem key \\"nope\\": no such key'),
      8000,
      'the secret errors logged',
    );
    await recorder.stop();

    const maps = await core.listNamespacedConfigMap({ namespace: 'vault' });
    const stored = maps.items.flatMap((m) => Object.values(m.data ?? {})).join('\n');
    expect(stored).toContain('"kind":"decision"');
    expect(stored).toContain('# Rollback report: vault/checkout');
    const bodies = receivers.flatMap((r) => r.requests.map((q) => q.body)).join('\n');
    const health = [policy, bad, missing].map((p) => JSON.stringify(recorder.health(p))).join('\n');
    for (const secret of secrets) {
      for (const [where, text] of [
        ['ConfigMaps', stored],
        ['webhook bodies', bodies],
        ['logs', logs],
        ['health', health],
      ] as const) {
        expect(text.includes(secret), `${secret} in ${where}`).toBe(false);
      }
    }
  });
});
