import { describe, expect, it } from 'vitest';
import type { DecisionRecord, Recorder } from '../../src/pipeline/record/recorder.js';
import { kubernetesSecretReader } from '../../src/adapters/secrets/kubernetes.js';
import { SecretUnavailableError } from '../../src/adapters/secrets/reader.js';
import { scenario } from './scenario.js';
import { GROUP, MERGE } from './support.js';
import { kubeClients } from '../../src/adapters/kube/clients.js';
import { mintSecret } from '../support/secrets.js';

const env = scenario();

const spec = (extra: Record<string, unknown> = {}) => env.spec(extra);

/** An audit-like recorder: keeps records, answers with a head, and refuses while `refuse` is set. */
class TestRecorder implements Recorder {
  records: DecisionRecord[] = [];
  refuse = false;
  record(entry: DecisionRecord): Promise<{ head: string; seq: number }> {
    if (this.refuse) return Promise.reject(new Error('audit store unavailable'));
    this.records.push(entry);
    return Promise.resolve({ head: `h${this.records.length}`, seq: this.records.length });
  }
}

describe('the recorder seam (write-ahead)', () => {
  it('every decision reaches the operator recorder with its snapshot; the receipt is status.audit', async () => {
    const recorder = new TestRecorder();
    const f = await env.fixture({ recorder });
    await f.startCanary(spec());
    await f.settle();
    await f.clock.advance(60_000);
    await f.tick();
    const advance = recorder.records.find((r) => r.kind === 'decision');
    expect(advance?.decision).toMatchObject({ action: 'advance', step: 0, nextStep: 1 });
    expect(advance?.snapshot?.checks.errors).toMatchObject({ status: 'ok', value: 0.001 });
    expect(advance?.snapshot?.rollout).toMatchObject({
      step: 0,
      stepElapsedSeconds: 60,
      canary: { desiredReplicas: 1, readyReplicas: 1 },
    });
    expect(recorder.records.map((r) => r.kind)).toEqual(['event', 'event', 'decision']);
    expect((await f.status()).audit).toEqual({ head: `h${recorder.records.length}`, seq: recorder.records.length });
  });

  it('an advance whose record is refused is not applied; a rollback goes ahead', async () => {
    const recorder = new TestRecorder();
    const f = await env.fixture({ recorder });
    await f.startCanary(spec());
    await f.settle();
    recorder.refuse = true;
    await f.clock.advance(60_000);
    await f.tick();
    const held = await f.status();
    expect(held).toMatchObject({ phase: 'Progressing', currentStep: 0, canaryReplicas: 1 });
    expect(held.conditions?.find((c) => c.type === 'Degraded')).toMatchObject({
      status: 'True',
      reason: 'RecordRefused',
    });
    expect((await f.deployment('app')).spec?.replicas).toBe(1);
    env.prom.set(0.4);
    await f.clock.advance(10_000);
    await f.tick();
    expect(await f.status()).toMatchObject({ phase: 'RolledBack' });
    expect((await f.deployment('app')).spec?.replicas).toBe(0);
    env.prom.set(0.001);
  });
});

describe('an aborted tick (its replica lost the Lease)', () => {
  it('starts no further stage: the advance recorded as the Lease went is not applied, no status written', async () => {
    const lost = new AbortController();
    const recorder = new TestRecorder();
    const f = await env.fixture({ recorder });
    await f.startCanary(spec());
    await f.settle();
    const before = await f.status();
    const recording = recorder.record.bind(recorder);
    recorder.record = (entry) => {
      if (entry.kind === 'decision') lost.abort(new Error('lost leadership: no renew within 10000 ms'));
      return recording(entry);
    };
    await f.clock.advance(60_000);
    await f.cache.refresh();
    const since = Date.now();
    await expect(f.reconciler.reconcile({ namespace: f.namespace, name: 'app' }, lost.signal)).rejects.toThrow(
      'lost leadership',
    );
    expect(recorder.records.at(-1)?.decision).toMatchObject({ action: 'advance', step: 0 });
    // The record stage under way finishes (its Events); no actuation, no status write follows it.
    const writes = f.sandbox.requests.list({ since }).filter((r) => r.method !== 'GET');
    expect(writes.filter((r) => !r.path.endsWith('/events')).map((r) => `${r.method} ${r.path}`)).toEqual([]);
    expect(await f.status()).toEqual(before);
    expect((await f.deployment('app')).spec?.replicas).toBe(1);
  });
});

describe('routers', () => {
  it('a weighted router whose objects do not exist is Ready=False with its message, never a fallback to replicas', async () => {
    const f = await env.fixture();
    await f.createDeployment('app', 'app:1', 2);
    await f.applyPolicy(spec({ trafficRouting: { istio: { virtualService: { name: 'app' } } } }));
    await f.tick();
    const ready = (await f.status()).conditions?.find((c) => c.type === 'Ready');
    expect(ready).toMatchObject({ status: 'False' });
    expect(ready?.message).toMatch(/VirtualService|Service/);
    expect((await f.deployment('app')).spec?.replicas).toBe(2);
  });

  it('a weight the replica split cannot give closely is shown: effectiveWeight and a WeightDrift condition', async () => {
    const f = await env.fixture();
    await f.startCanary(spec({ steps: [{ weight: 5, soak: '1m' }] }));
    const status = await f.status();
    expect(status).toMatchObject({ canaryWeight: 5, effectiveWeight: 20 });
    expect(status.conditions?.find((c) => c.type === 'Degraded')).toMatchObject({
      status: 'True',
      reason: 'WeightDrift',
      message: 'weight 5% asked, replicas routing gives 20% (replicas: 1 canary, 4 primary)',
    });
    expect(await f.eventReasons()).toContain('WeightDrift');
  });
});

describe('shadow to active', () => {
  it('takes over from the live state: the running template is adopted as stable', async () => {
    const f = await env.fixture();
    await f.createDeployment('app', 'app:1', 2);
    await f.settle();
    await f.applyPolicy(spec({ mode: 'shadow' }));
    await f.tick();
    await f.setImage('app:2');
    await f.tick();
    const shadowed = await f.status();
    expect(shadowed).toMatchObject({ phase: 'Progressing', currentStep: 0 });
    await f.objects.patchNamespacedCustomObject(
      { ...GROUP, namespace: f.namespace, name: 'app', body: { spec: { mode: 'active' } } },
      MERGE,
    );
    await f.settle();
    const adopted = await f.tickUntil((s) => s.phase === 'Idle', 1000);
    expect(adopted.stableRevision).toBe(shadowed.canaryRevision);
    expect((await f.deployment('app-primary')).spec?.template?.spec?.containers[0]?.image).toBe('app:2');
    expect((await f.deployment('app')).spec?.replicas).toBe(0);
  });
});

describe('the Kubernetes SecretReader', () => {
  const VALUE = mintSecret('creds-token');
  it('GETs the named Secret once while cached, never lists; errors name the Secret and key, never a value', async () => {
    const f = await env.fixture();
    await f.core.createNamespacedSecret({
      namespace: f.namespace,
      body: { metadata: { name: 'creds' }, stringData: { token: VALUE } },
    });
    const reader = kubernetesSecretReader(kubeClients(env.sandbox.kubeConfig()), { clock: f.clock, ttlMs: 30_000 });
    const since = Date.now();
    expect(await reader.read(f.namespace, { name: 'creds', key: 'token' })).toBe(VALUE);
    expect(await reader.read(f.namespace, { name: 'creds', key: 'token' })).toBe(VALUE);
    const missingKey = await reader.read(f.namespace, { name: 'creds', key: 'nope' }).catch((e: unknown) => e);
    expect(missingKey).toBeInstanceOf(SecretUnavailableError);
    expect((missingKey as Error).message).toBe(`secret ${f.namespace}/creds key "nope": no such key in the Secret`);
    const reads = () => env.sandbox.requests.list({ since }).filter((r) => r.path.includes('/secrets'));
    expect(reads().map((r) => `${r.method} ${r.path}`)).toEqual([
      `GET /api/v1/namespaces/${f.namespace}/secrets/creds`,
    ]);
    await f.clock.advance(30_000);
    await reader.read(f.namespace, { name: 'creds', key: 'token' });
    expect(reads()).toHaveLength(2);
    const missing = await reader.read(f.namespace, { name: 'gone', key: 'k' }).catch((e: unknown) => e);
    expect((missing as Error).message).toBe(`secret ${f.namespace}/gone key "k": Secret not found`);
  });
});
