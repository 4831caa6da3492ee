import { Webhook } from 'standardwebhooks';
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  AuditRecorder,
  AuditUnavailableError,
  type AuditRecorderOptions,
} from '../../src/pipeline/record/audit/index.js';
import { authorization, batchBody, bulkFailure } from '../../src/pipeline/record/audit/webhook/body.js';
import type { AuditEntry } from '../../src/pipeline/record/audit/entry.js';
import { systemClock, type Clock } from '../../src/lib/clock/clock.js';
import { ManualClock } from '../support/manual-clock.js';
import { silentLogger } from '../../src/lib/log/logger.js';
import type { PolicyRef } from '../../src/pipeline/record/recorder.js';
import type { Sandbox } from '@kubestead/sandbox';
import { staticSecretReader } from '../../src/adapters/secrets/reader.js';
import { waitFor } from '../support/wait.js';
import { auditSandbox, createPolicy } from './cluster.js';
import { chainOf, recordOf } from './records.js';
import { newSecret, TestReceiver } from './receiver.js';

const FAST = { baseBackoffMs: 20, maxBackoffMs: 100, timeoutMs: 2000 };

describe('SIEM delivery against a local receiver', () => {
  let sandbox: Sandbox;
  let receiver: TestReceiver;
  let url: string;
  const secret = newSecret();
  const recorders: AuditRecorder[] = [];
  const recorder = (options: AuditRecorderOptions = {}, clock: Clock = systemClock): AuditRecorder => {
    const made = new AuditRecorder(sandbox.kubeConfig(), clock, silentLogger, {
      webhook: { url, format: 'json', secretRef: { namespace: 'kubestead', name: 'siem', key: 'hmac' } },
      secrets: staticSecretReader({ 'kubestead/siem/hmac': secret }),
      delivery: FAST,
      ...options,
    });
    recorders.push(made);
    return made;
  };
  const record = async (r: AuditRecorder, policy: PolicyRef, count: number, from = 0): Promise<string> => {
    let head = '';
    for (let i = from; i < from + count; i += 1)
      head = (await r.record(recordOf('advance', i % 4, i, { policy, revision: `r${i}` }))).head!;
    return head;
  };
  const verifySignature = (request: { headers: Record<string, unknown>; body: string }) =>
    new Webhook(secret).verify(request.body, request.headers as Record<string, string>);

  beforeAll(async () => {
    sandbox = await auditSandbox();
  });
  afterEach(async () => {
    await Promise.all(recorders.splice(0).map((r) => r.stop()));
    await receiver?.close();
  });
  afterAll(() => sandbox?.close());
  const startReceiver = async () => {
    receiver = new TestReceiver();
    url = await receiver.start();
  };

  it('down for the whole sequence, then up: every entry once after dedupe, in order, signatures valid', async () => {
    await startReceiver();
    let up = false;
    receiver.behaviour = () => ({ status: up ? 200 : 503 });
    const policy = await createPolicy(sandbox, 'siem', 'down-then-up');
    const r = recorder();
    await record(r, policy, 7);
    await waitFor(() => receiver.requests.length >= 3, 8000, 'retries while down');
    expect(receiver.ingested).toHaveLength(0);
    up = true;
    await waitFor(() => receiver.entries().length === 7, 8000, 'all entries');
    await r.deliveriesIdle();
    expect(receiver.entries().map((e) => e.seq)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    for (const request of receiver.requests) {
      const batch = verifySignature(request) as { entries: AuditEntry[] };
      expect(request.headers['webhook-id']).toBe(batch.entries.at(-1)!.hash);
    }
    const cursor = await sandbox.client(CoreV1Api).readNamespacedConfigMap({
      namespace: 'siem',
      name: `down-then-up-audit-cursor-${policy.uid.replace(/-/g, '').slice(0, 8)}`,
    });
    expect(Object.values(cursor.data!).map((v) => JSON.parse(v) as { seq: number })).toEqual([
      expect.objectContaining({ seq: 6 }),
    ]);
  });

  it('a receiver that times out after ingesting gets the same webhook-id again', async () => {
    await startReceiver();
    receiver.behaviour = (_request, index) => (index === 0 ? 'hang-after-ingest' : { status: 204 });
    const policy = await createPolicy(sandbox, 'siem', 'lost-ack');
    const r = recorder({ delivery: { ...FAST, timeoutMs: 300 } });
    await r.record(recordOf('advance', 0, 0, { policy }));
    await waitFor(() => receiver.requests.length >= 2, 8000, 'a resend');
    await r.deliveriesIdle();
    expect(receiver.requests[1]!.headers['webhook-id']).toBe(receiver.requests[0]!.headers['webhook-id']);
    expect(receiver.requests[1]!.body).toBe(receiver.requests[0]!.body);
    expect(receiver.entries()).toHaveLength(1);
  });

  it('a new recorder (restart, leader change) resumes from the cursor in the cluster', async () => {
    await startReceiver();
    let up = true;
    receiver.behaviour = () => ({ status: up ? 204 : 503 });
    const policy = await createPolicy(sandbox, 'siem', 'resume');
    const first = recorder();
    await record(first, policy, 2);
    await waitFor(() => receiver.entries().length === 2, 8000, 'the first two');
    await first.deliveriesIdle();
    up = false;
    await record(first, policy, 3, 2);
    await waitFor(() => receiver.requests.length >= 4, 8000, 'failing attempts');
    await first.stop();
    up = true;
    const before = receiver.requests.length;
    const second = recorder();
    await second.deliverPending(policy);
    await waitFor(() => receiver.entries().length === 5, 8000, 'the rest');
    await second.deliveriesIdle();
    expect(receiver.entries().map((e) => e.seq)).toEqual([0, 1, 2, 3, 4]);
    const resent = receiver.requests
      .slice(before)
      .flatMap((q) => (JSON.parse(q.body) as { entries: AuditEntry[] }).entries.map((e) => e.seq));
    expect(resent).toEqual([2, 3, 4]);
  });

  it('backlog over the bound: advance and promote refused, rollback recorded; delivery catches up and advancing resumes', async () => {
    await startReceiver();
    let up = false;
    receiver.behaviour = () => ({ status: up ? 204 : 503 });
    const policy = await createPolicy(sandbox, 'siem', 'backlog');
    const r = recorder({ backlogLimit: 2 });
    await record(r, policy, 3);
    await waitFor(
      () => r.health(policy).reason === 'AuditBacklogFull' && r.health(policy).message.endsWith('answered 503'),
      8000,
      'the backlog bound',
    );
    expect(r.health(policy)).toMatchObject({
      healthy: false,
      backlog: 3,
      message: expect.stringMatching(
        /^3 audit entries not delivered to the SIEM \(limit 2\): http:\/\/127\.0\.0\.1:\d+\/ingest answered 503$/,
      ),
    });
    await expect(r.record(recordOf('advance', 3, 10, { policy, revision: 'x' }))).rejects.toThrow(
      AuditUnavailableError,
    );
    expect((await r.record(recordOf('rollback', 3, 11, { policy }))).seq).toBe(3);
    up = true;
    await waitFor(() => r.health(policy).healthy, 8000, 'the backlog drained');
    expect((await r.record(recordOf('advance', 0, 12, { policy, revision: 'y' }))).seq).toBe(4);
  });

  it('Retry-After is honoured, on the injected clock', async () => {
    await startReceiver();
    receiver.behaviour = (_request, index) => (index === 0 ? { status: 429, retryAfter: '30' } : { status: 204 });
    const clock = new ManualClock(Date.now());
    const start = clock.now();
    const policy = await createPolicy(sandbox, 'siem', 'retry-after');
    const r = recorder({ delivery: { baseBackoffMs: 10, maxBackoffMs: 10, timeoutMs: 60_000 } }, clock);
    await r.record(recordOf('advance', 0, 0, { policy }));
    // The only sleeper is the Retry-After wait (due in 30 s), not the request's timeout (60 s), which
    // is the only sleeper while the 429 is on its way: moving the clock then would put the wait later.
    await waitFor(
      () => receiver.requests.length === 1 && clock.waiting === 1 && clock.nextWake === start + 30_000,
      8000,
      'the 429 and the wait',
    );
    await clock.advance(29_000);
    expect(receiver.requests).toHaveLength(1);
    await clock.advance(1000);
    await waitFor(() => receiver.entries().length === 1, 8000, 'the retry');
  });
});

describe('SIEM body formats', () => {
  const { entries } = chainOf(3);

  it('JSON: the entries in order', () => {
    const { body, contentType } = batchBody('json', entries);
    expect(contentType).toBe('application/json');
    expect((JSON.parse(body) as { entries: AuditEntry[] }).entries).toEqual(entries);
  });

  it('Splunk HEC: one event per entry, time in epoch seconds', () => {
    const events = batchBody('splunk', entries)
      .body.split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events).toHaveLength(3);
    expect(events[0]).toEqual({
      time: Date.parse(entries[0]!.time) / 1000,
      host: entries[0]!.controller,
      source: 'kubestead',
      sourcetype: 'kubestead:audit',
      event: entries[0],
    });
    expect(authorization('splunk', 't0k')).toEqual({ authorization: 'Splunk t0k' });
  });

  it('Elasticsearch bulk: create with the entry hash as _id; a 409 item counts as delivered', () => {
    const { body, contentType } = batchBody('elasticsearch', entries);
    expect(contentType).toBe('application/x-ndjson');
    const lines = body
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toEqual({ create: { _id: entries[0]!.hash } });
    expect(lines[1]).toEqual(entries[0]);
    expect(body.endsWith('\n')).toBe(true);
    expect(
      bulkFailure('elasticsearch', '{"errors":true,"items":[{"create":{"status":201}},{"create":{"status":409}}]}'),
    ).toBeNull();
    expect(bulkFailure('elasticsearch', '{"errors":true,"items":[{"create":{"status":429}}]}')).toBe(
      '1 _bulk items failed (status 429)',
    );
    expect(bulkFailure('elasticsearch', 'oops')).toBe('the _bulk answer is not JSON');
  });
});
