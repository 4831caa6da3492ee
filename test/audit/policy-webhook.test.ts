import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditRecorder } from '../../src/pipeline/record/audit/index.js';
import type { AuditEntry } from '../../src/pipeline/record/audit/entry.js';
import { systemClock } from '../../src/lib/clock/clock.js';
import { silentLogger } from '../../src/lib/log/logger.js';
import { parsePolicy } from '../../src/pipeline/policy/load.js';
import type { Sandbox } from '@kubestead/sandbox';
import { staticSecretReader } from '../../src/adapters/secrets/reader.js';
import { waitFor } from '../support/wait.js';
import { auditSandbox, createPolicy } from './cluster.js';
import { newSecret, TestReceiver } from './receiver.js';
import { recordOf } from './records.js';

/** The Standard Webhooks signature of a request, computed here (the library's verify parses the body as one JSON value, which NDJSON is not). */
function signature(request: { headers: Record<string, unknown>; body: string }): string {
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  return createHmac('sha256', key)
    .update(`${String(request.headers['webhook-id'])}.${String(request.headers['webhook-timestamp'])}.${request.body}`)
    .digest('base64');
}

const secret = newSecret();

const policyWith = (webhook: Record<string, unknown>) => ({
  apiVersion: 'kubestead.io/v1alpha1',
  kind: 'RolloutPolicy',
  metadata: { name: 'p' },
  spec: { targetRef: { kind: 'Deployment', name: 'p' }, steps: [{ weight: 10 }], audit: { webhook } },
});

describe('spec.audit.webhook formats', () => {
  const base = { url: 'https://siem.example/in', secretRef: { name: 'siem', key: 'hmac' } };

  it('json by default; splunk needs its HEC token; an unknown format names the ones there are', () => {
    const parsed = parsePolicy(policyWith(base));
    expect(parsed.policy?.spec.audit?.webhook?.format).toBe('json');
    const splunk = parsePolicy(policyWith({ ...base, format: 'splunk' }));
    expect(splunk.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
      ['spec.audit.webhook.tokenSecretRef', 'format splunk needs tokenSecretRef: the Secret holding the HEC token'],
    ]);
    expect(
      parsePolicy(policyWith({ ...base, format: 'splunk', tokenSecretRef: { name: 'siem', key: 'hec' } })).issues,
    ).toEqual([]);
    const unknown = parsePolicy(policyWith({ ...base, format: 'xml' }));
    expect(unknown.issues).toHaveLength(1);
    expect(unknown.issues[0]!.message).toMatch(/json.*splunk.*elasticsearch/);
  });
});

describe('per-policy destinations in Splunk HEC and Elasticsearch bulk format (sandbox, local receivers)', () => {
  let sandbox: Sandbox;
  const receivers: TestReceiver[] = [];
  const recorders: AuditRecorder[] = [];

  beforeAll(async () => {
    sandbox = await auditSandbox();
  });
  afterAll(async () => {
    await Promise.all(recorders.map((r) => r.stop()));
    await Promise.all(receivers.map((r) => r.close()));
    await sandbox?.close();
  });

  async function receiver(
    answer: (body: string) => { status: number; body?: string },
  ): Promise<{ receiver: TestReceiver; url: string }> {
    const made = new TestReceiver();
    made.behaviour = (request) => answer(request.body);
    receivers.push(made);
    return { receiver: made, url: await made.start() };
  }

  async function deliver(name: string, webhook: Record<string, unknown>, target: TestReceiver): Promise<AuditEntry[]> {
    const policy = await createPolicy(sandbox, 'formats', name, { webhook });
    const recorder = new AuditRecorder(sandbox.kubeConfig(), systemClock, silentLogger, {
      secrets: staticSecretReader({ 'formats/siem/hmac': secret, 'formats/siem/token': 'tok-0123456789' }),
      delivery: { baseBackoffMs: 20, maxBackoffMs: 100, timeoutMs: 2000 },
    });
    recorders.push(recorder);
    const heads: string[] = [];
    for (let i = 0; i < 3; i += 1)
      heads.push((await recorder.record(recordOf('advance', i, i, { policy, revision: `r${i}` }))).head!);
    await waitFor(() => target.ingested.length > 0 && recorder.health(policy).backlog === 0, 8000, `${name}: delivery`);
    await recorder.deliveriesIdle();
    for (const request of target.requests)
      expect(String(request.headers['webhook-signature'])).toBe(`v1,${signature(request)}`);
    return heads.map((hash, seq) => ({ hash, seq }) as AuditEntry);
  }

  it("splunk: one HEC event per entry, in order, with the policy's token", async () => {
    const { receiver: hec, url } = await receiver(() => ({ status: 200, body: '{"text":"Success","code":0}' }));
    const sent = await deliver(
      'hec',
      {
        url,
        format: 'splunk',
        secretRef: { name: 'siem', key: 'hmac' },
        tokenSecretRef: { name: 'siem', key: 'token' },
      },
      hec,
    );
    const events = hec.ingested.flatMap((r) =>
      r.body.split('\n').map((line) => JSON.parse(line) as { sourcetype: string; event: AuditEntry }),
    );
    expect(events.map((e) => [e.sourcetype, e.event.seq, e.event.hash])).toEqual(
      sent.map((e) => ['kubestead:audit', e.seq, e.hash]),
    );
    expect(hec.requests.every((r) => r.headers.authorization === 'Splunk tok-0123456789')).toBe(true);
  });

  it('elasticsearch: _bulk create with the entry hash as _id, in order', async () => {
    const ok = (body: string) =>
      JSON.stringify({
        errors: false,
        items: body
          .trim()
          .split('\n')
          .filter((_, i) => i % 2 === 0)
          .map(() => ({ create: { status: 201 } })),
      });
    const { receiver: es, url } = await receiver((body) => ({ status: 200, body: ok(body) }));
    const sent = await deliver('bulk', { url, format: 'elasticsearch', secretRef: { name: 'siem', key: 'hmac' } }, es);
    const lines = es.ingested.flatMap((r) =>
      r.body
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    );
    const actions = lines.filter((_, i) => i % 2 === 0);
    const docs = lines.filter((_, i) => i % 2 === 1) as unknown as AuditEntry[];
    expect(actions).toEqual(sent.map((e) => ({ create: { _id: e.hash } })));
    expect(docs.map((d) => d.seq)).toEqual([0, 1, 2]);
    expect(
      es.requests.every(
        (r) => r.headers['content-type'] === 'application/x-ndjson' && r.headers.authorization === undefined,
      ),
    ).toBe(true);
  });
});
