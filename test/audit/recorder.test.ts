import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AuditRecorder,
  AuditUnavailableError,
  type AuditRecorderOptions,
} from '../../src/pipeline/record/audit/index.js';
import { readChainLines } from '../../src/pipeline/record/audit/export.js';
import { parseChainText } from '../../src/pipeline/record/audit/parse.js';
import { verifyChain } from '../../src/pipeline/record/audit/verify.js';
import { ManualClock } from '../support/manual-clock.js';
import { systemClock, type Clock } from '../../src/lib/clock/clock.js';
import { silentLogger } from '../../src/lib/log/logger.js';
import type { PolicyRef } from '../../src/pipeline/record/recorder.js';
import type { Sandbox } from '@kubestead/sandbox';
import { waitFor } from '../support/wait.js';
import { auditSandbox, createPolicy, segmentMaps } from './cluster.js';
import { recordOf } from './records.js';
import { kubeClients } from '../../src/adapters/kube/clients.js';

describe('AuditRecorder against the sandbox cluster', () => {
  let sandbox: Sandbox;
  const recorders: AuditRecorder[] = [];
  const recorder = (options: AuditRecorderOptions = {}, clock: Clock = systemClock): AuditRecorder => {
    const made = new AuditRecorder(sandbox.kubeConfig(), clock, silentLogger, options);
    recorders.push(made);
    return made;
  };
  const chainOf = async (policy: PolicyRef) => {
    const lines = await readChainLines(kubeClients(sandbox.kubeConfig()), policy.namespace, policy.name);
    return {
      lines,
      result: verifyChain(parseChainText(lines.join('\n'), 'cluster')),
      entries: lines.map((l) => JSON.parse(l) as Record<string, unknown>),
    };
  };

  beforeAll(async () => {
    sandbox = await auditSandbox();
  });
  afterAll(async () => {
    await Promise.all(recorders.map((r) => r.stop()));
    await sandbox?.close();
  });

  it('stores each record before resolving; the receipt gives head and seq; a new recorder continues the chain', async () => {
    const policy = await createPolicy(sandbox, 'shop', 'checkout');
    const first = recorder();
    const r0 = await first.record(recordOf('advance', 0, 1, { policy }));
    const r1 = await first.record(recordOf('advance', 1, 2, { policy }));
    expect(r0.seq).toBe(0);
    expect(r1.seq).toBe(1);
    const after = recorder();
    const r2 = await after.record(recordOf('rollback', 2, 3, { policy }));
    expect(r2.seq).toBe(2);
    const { result, entries } = await chainOf(policy);
    expect(result).toMatchObject({ ok: true, entries: 3, lastHash: r2.head });
    expect(entries[2]!.prevHash).toBe(r1.head);
    expect(entries[2]!.snapshot).toEqual(recordOf('rollback', 2, 3, { policy }).snapshot);
    const [segment] = await segmentMaps(sandbox, policy);
    expect(segment!.metadata!.labels).toMatchObject({
      'app.kubernetes.io/managed-by': 'kubestead',
      'kubestead.io/audit-policy': 'checkout',
    });
    expect(segment!.metadata!.ownerReferences).toEqual([
      {
        apiVersion: 'kubestead.io/v1alpha1',
        kind: 'RolloutPolicy',
        name: 'checkout',
        uid: policy.uid,
        controller: false,
        blockOwnerDeletion: false,
      },
    ]);
  });

  it('the same action recorded again (a crash between storing and applying) makes no second entry', async () => {
    const policy = await createPolicy(sandbox, 'shop', 'dedupe');
    const before = await recorder().record(recordOf('advance', 0, 1, { policy }));
    await recorder().record({
      ...recordOf('advance', 0, 1, { policy }),
      kind: 'event',
      message: 'resumed after a restart',
    });
    const again = await recorder().record(recordOf('advance', 0, 2, { policy }));
    expect(again).toMatchObject({ deduped: true, seq: 1 });
    const next = await recorder().record(recordOf('advance', 0, 3, { policy, revision: 'rev-c' }));
    expect(next.seq).toBe(2);
    const { entries } = await chainOf(policy);
    expect(entries.map((e) => e.kind)).toEqual(['decision', 'event', 'decision']);
    expect(before.seq).toBe(0);
  });

  it('a pause, a resume and the same pause again are three entries', async () => {
    const policy = await createPolicy(sandbox, 'shop', 'pauses');
    const r = recorder();
    for (const [i, action] of (['pause', 'advance', 'pause'] as const).entries())
      await r.record(recordOf(action, 1, i, { policy }));
    expect((await chainOf(policy)).entries).toHaveLength(3);
  });

  it('rolls segments over well before the object limit; the chain runs on across them', async () => {
    const policy = await createPolicy(sandbox, 'shop', 'rollover');
    const r = recorder({ segmentBytes: 6000 });
    for (let i = 0; i < 12; i += 1) await r.record(recordOf('advance', i % 4, i, { policy, revision: `rev-${i}` }));
    const maps = await segmentMaps(sandbox, policy);
    expect(maps.length).toBeGreaterThan(2);
    for (const map of maps) expect(Buffer.byteLength(map.data!['chain.jsonl']!)).toBeLessThanOrEqual(6000);
    expect(maps.slice(0, -1).every((m) => m.metadata!.annotations!['kubestead.io/audit-sealed'] === 'true')).toBe(true);
    expect((await chainOf(policy)).result).toMatchObject({ ok: true, entries: 12 });
  });

  it('two recorders racing (two leaders briefly), with injected 409s, never fork the chain', async () => {
    const policy = await createPolicy(sandbox, 'shop', 'race');
    sandbox.faults.inject({ method: 'PUT', path: `/api/v1/namespaces/shop/configmaps`, respond: 409, times: 3 });
    const [a, b] = [recorder({ segmentBytes: 8000 }), recorder({ segmentBytes: 8000 })];
    await Promise.all(
      [0, 1, 2, 3, 4, 5, 6, 7].flatMap((i) => [
        a.record(recordOf('advance', i % 4, i, { policy, revision: `a-${i}`, controller: 'replica-a' })),
        b.record(recordOf('advance', i % 4, i, { policy, revision: `b-${i}`, controller: 'replica-b' })),
      ]),
    );
    const { result, entries } = await chainOf(policy);
    expect(result).toMatchObject({ ok: true, entries: 16 });
    expect(entries.map((e) => e.seq)).toEqual([...Array(16).keys()]);
    expect(new Set(entries.map((e) => e.controller))).toEqual(new Set(['replica-a', 'replica-b']));
    expect(sandbox.faults.pending()).toBe(0);
  });

  it('store down: an advance is refused, a rollback goes ahead and is written late when the store returns', async () => {
    const policy = await createPolicy(sandbox, 'shop', 'outage');
    const clock = new ManualClock();
    const r = recorder({ lateRetryMs: 1000 }, clock);
    await r.record(recordOf('advance', 0, 1, { policy }));
    sandbox.faults.inject({ path: '/api/v1/namespaces/shop/configmaps', respond: 503, times: 1000 });
    await expect(r.record(recordOf('advance', 1, 2, { policy }))).rejects.toThrow(AuditUnavailableError);
    expect(await r.record(recordOf('rollback', 1, 3, { policy }))).toEqual({ late: true });
    expect(r.health(policy)).toMatchObject({ healthy: false, reason: 'AuditStoreUnavailable', lateQueued: 1 });
    await expect(r.record(recordOf('promote', 1, 4, { policy }))).rejects.toThrow(
      /promote not recorded: audit store unavailable/,
    );
    sandbox.faults.clear();
    await waitFor(
      async () => {
        await clock.advance(2000);
        return r.health(policy).lateQueued === 0;
      },
      8000,
      'the late entry',
    );
    const { result, entries } = await chainOf(policy);
    expect(result).toMatchObject({ ok: true, entries: 2 });
    expect(entries[1]).toMatchObject({ late: true, decision: { action: 'rollback' } });
    expect(r.health(policy).healthy).toBe(true);
  });

  it('a corrupt segment: reported broken where it is, advancing stops, nothing is overwritten', async () => {
    const policy = await createPolicy(sandbox, 'shop', 'corrupt');
    await recorder().record(recordOf('advance', 0, 1, { policy }));
    await recorder().record(recordOf('advance', 1, 2, { policy }));
    const [map] = await segmentMaps(sandbox, policy);
    const tampered = map!.data!['chain.jsonl']!.replace('"step":1', '"step":3');
    await sandbox.client(CoreV1Api).replaceNamespacedConfigMap({
      name: map!.metadata!.name!,
      namespace: 'shop',
      body: { ...map!, data: { 'chain.jsonl': tampered } },
    });
    const r = recorder();
    await expect(r.record(recordOf('advance', 2, 3, { policy }))).rejects.toThrow(
      `audit chain broken: ConfigMap shop/${map!.metadata!.name} line 2: (seq 1): modified: its content does not match its hash`,
    );
    expect(await r.record(recordOf('rollback', 2, 4, { policy }))).toEqual({ late: true });
    expect(r.health(policy)).toMatchObject({ healthy: false, reason: 'AuditChainBroken' });
    const [after] = await segmentMaps(sandbox, policy);
    expect(after!.data!['chain.jsonl']).toBe(tampered);
  });

  it.each([
    ['a write cut short (a crash mid-append)', (line: string) => line.slice(0, Math.floor(line.length / 2))],
    ['a full disk (ENOSPC): zero bytes of the record', () => '\u0000\u0000\u0000'],
  ])('a torn last record, %s: cut back to the last valid one, a recovered entry, then the advance', async (_, tear) => {
    const policy = await createPolicy(sandbox, 'shop', `torn-${tear.length}`);
    await recorder().record(recordOf('advance', 0, 1, { policy }));
    await recorder().record(recordOf('advance', 1, 2, { policy }));
    const [map] = await segmentMaps(sandbox, policy);
    const lines = map!.data!['chain.jsonl']!.replace(/\n$/, '').split('\n');
    const torn = [...lines.slice(0, -1), tear(lines.at(-1)!)].join('\n');
    await sandbox.client(CoreV1Api).replaceNamespacedConfigMap({
      name: map!.metadata!.name!,
      namespace: 'shop',
      body: { ...map!, data: { 'chain.jsonl': `${torn}\n` } },
    });
    await expect(chainOf(policy)).rejects.toThrow(/JSON/); // the torn line does not even parse
    const r = recorder();
    await r.record(recordOf('advance', 1, 2, { policy }));
    const { result, entries } = await chainOf(policy);
    expect(result).toMatchObject({ ok: true, entries: 3 });
    expect(entries).toMatchObject([
      { seq: 0, kind: 'decision', decision: { action: 'advance' } },
      { seq: 1, kind: 'event', decision: { action: 'hold', reasons: [{ rule: 'audit-recovered' }] } },
      { seq: 2, kind: 'decision', decision: { action: 'advance' } },
    ]);
    expect(entries[1]!.message).toMatch(
      new RegExp(
        `^audit chain recovered: a torn last record \\(\\d+ bytes\\) cut from ConfigMap shop/${map!.metadata!.name}; the chain is valid to seq 0$`,
      ),
    );
    expect(r.health(policy).healthy).toBe(true);
  });

  it('--audit-file: every stored entry is also a line of the file, the same bytes as in the cluster', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'audit-file-'));
    try {
      const policy = await createPolicy(sandbox, 'shop', 'filed');
      const r = recorder({ auditFile: join(dir, 'audit.jsonl') });
      for (let i = 0; i < 3; i += 1) await r.record(recordOf('advance', i, i, { policy }));
      await r.record(recordOf('advance', 2, 9, { policy }));
      const file = await readFile(join(dir, 'audit.jsonl'), 'utf8');
      expect(file).toBe(`${(await chainOf(policy)).lines.join('\n')}\n`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('retention', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await auditSandbox();
  });
  afterAll(() => sandbox?.close());
  const chainLines = async (policy: PolicyRef) =>
    readChainLines(kubeClients(sandbox.kubeConfig()), policy.namespace, policy.name);

  it('by count: whole segments go, a prune entry says which, and the chain still verifies', async () => {
    const policy = await createPolicy(sandbox, 'keep', 'by-count');
    const r = new AuditRecorder(sandbox.kubeConfig(), systemClock, silentLogger, {
      segmentBytes: 4000,
      retention: { maxEntries: 4 },
    });
    for (let i = 0; i < 14; i += 1) await r.record(recordOf('advance', i % 4, i, { policy, revision: `r${i}` }));
    const lines = await chainLines(policy);
    const entries = lines.map(
      (l) => JSON.parse(l) as { seq: number; kind: string; pruned?: { fromSeq: number; throughSeq: number } },
    );
    expect(entries[0]!.seq).toBeGreaterThan(0);
    expect(lines.length).toBeLessThan(14);
    const prunes = entries.filter((e) => e.kind === 'prune');
    expect(prunes.length).toBeGreaterThan(0);
    expect(prunes.at(-1)!.pruned!.throughSeq).toBe(entries[0]!.seq - 1);
    const result = verifyChain(parseChainText(lines.join('\n'), 'cluster'));
    expect(result).toMatchObject({ ok: true });
    expect(result.notes[0]).toMatch(/^starts at seq \d+: seq 0\.\.\d+ were pruned \(prune entry seq \d+\)$/);
    expect(entries.filter((e) => e.kind === 'decision').length).toBeGreaterThanOrEqual(4);
  });

  it('by age, and never an entry the SIEM has not acknowledged', async () => {
    const receiverDown = { status: 503 };
    const { TestReceiver, newSecret } = await import('./receiver.js');
    const { staticSecretReader } = await import('../../src/adapters/secrets/reader.js');
    const receiver = new TestReceiver();
    const url = await receiver.start();
    let up = false;
    receiver.behaviour = () => (up ? { status: 204 } : receiverDown);
    const secret = newSecret();
    const clock = new ManualClock(Date.parse('2026-11-26T12:00:00Z'));
    const policy = await createPolicy(sandbox, 'keep', 'by-age');
    const r = new AuditRecorder(sandbox.kubeConfig(), clock, silentLogger, {
      segmentBytes: 4000,
      retention: { maxAgeSeconds: 3600, keepAfterDeletion: true },
      webhook: { url, format: 'json', secretRef: { namespace: 'k', name: 's', key: 'k' } },
      secrets: staticSecretReader({ 's/k': secret }),
      delivery: { baseBackoffMs: 1, maxBackoffMs: 1 },
    });
    try {
      for (let i = 0; i < 8; i += 1) await r.record(recordOf('advance', i % 4, i, { policy, revision: `r${i}` }));
      expect((await chainLines(policy)).length).toBe(8);
      expect((await segmentMaps(sandbox, policy))[0]!.metadata!.ownerReferences).toBeUndefined();
      up = true;
      await waitFor(
        async () => {
          await clock.advance(10);
          return receiver.entries().length === 8;
        },
        8000,
        'delivery',
      );
      await r.record(recordOf('advance', 0, 30, { policy, revision: 'late-one' }));
      const lines = await chainLines(policy);
      expect((JSON.parse(lines[0]!) as { seq: number }).seq).toBeGreaterThan(0);
      expect(verifyChain(parseChainText(lines.join('\n'), 'cluster')).ok).toBe(true);
    } finally {
      await r.stop();
      await receiver.close();
    }
  });
});
