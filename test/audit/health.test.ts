import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { AuditRecorder } from '../../src/pipeline/record/audit/index.js';
import { readChainLines } from '../../src/pipeline/record/audit/export.js';
import { parseChainText } from '../../src/pipeline/record/audit/parse.js';
import { verifyChain } from '../../src/pipeline/record/audit/verify.js';
import { systemClock } from '../../src/lib/clock/clock.js';
import { OperatorMetrics } from '../../src/runtime/controller/telemetry.js';
import { silentLogger } from '../../src/lib/log/logger.js';
import type { PolicyRef } from '../../src/pipeline/record/recorder.js';
import { waitFor } from '../support/wait.js';
import { scenario } from '../tick/scenario.js';
import type { TickFixture } from '../tick/support.js';
import { segmentMaps } from './cluster.js';
import { recordOf } from './records.js';
import { kubeClients } from '../../src/adapters/kube/clients.js';

const env = scenario();
const recorders: AuditRecorder[] = [];
afterAll(() => Promise.all(recorders.map((r) => r.stop())));

function auditRecorder(): AuditRecorder {
  const recorder = new AuditRecorder(env.sandbox.kubeConfig(), systemClock, silentLogger, { lateRetryMs: 50 });
  recorders.push(recorder);
  return recorder;
}

/** A fixture whose ticks go through an AuditRecorder and report to the operator's real metrics. */
async function audited(): Promise<{ f: TickFixture; recorder: AuditRecorder; metrics: OperatorMetrics }> {
  const recorder = auditRecorder();
  const f = await env.fixture({ recorder });
  const metrics = new OperatorMetrics({
    informers: () => [],
    isLeader: () => true,
    queue: () => ({ policies: 1, inFlight: 0 }),
  });
  f.deps.observer = metrics;
  return { f, recorder, metrics };
}

async function policyRef(f: TickFixture): Promise<PolicyRef> {
  const meta = (await f.policy()).metadata!;
  return { namespace: f.namespace, name: 'app', uid: meta.uid!, generation: meta.generation! };
}

const condition = (status: { conditions?: Array<{ type: string }> }, type: string) =>
  status.conditions?.find((c) => c.type === type);

describe('audit health in the tick', () => {
  it('a corrupt segment: AuditHealthy=False with where, one Event, the metric; no advance; a rollback still goes ahead; nothing overwritten; a repair lifts it', async () => {
    const { f, recorder, metrics } = await audited();
    const started = await f.startCanary(env.spec());
    expect(started).toMatchObject({ phase: 'Progressing', currentStep: 0 });
    expect(condition(started, 'AuditHealthy')).toMatchObject({ status: 'True', reason: 'AuditHealthy' });
    await f.settle();

    const [map] = await segmentMaps(env.sandbox, await policyRef(f));
    const original = map!.data!['chain.jsonl']!;
    const tampered = original.replace('"controller":"test-controller"', '"controller":"someone-else"');
    expect(tampered).not.toBe(original);
    const core = env.sandbox.client(CoreV1Api);
    const written = await core.replaceNamespacedConfigMap({
      name: map!.metadata!.name!,
      namespace: f.namespace,
      body: { ...map!, data: { 'chain.jsonl': tampered } },
    });

    await f.clock.advance(61_000);
    await f.tick();
    await f.tick();
    const blocked = await f.status();
    expect(blocked).toMatchObject({ phase: 'Progressing', currentStep: 0, canaryWeight: 20 });
    const where = `audit chain broken: ConfigMap ${f.namespace}/${map!.metadata!.name} line 1: (seq 0): modified: its content does not match its hash`;
    expect(condition(blocked, 'AuditHealthy')).toMatchObject({
      status: 'False',
      reason: 'AuditChainBroken',
      message: where,
    });
    expect(condition(blocked, 'Degraded')).toMatchObject({ status: 'True', reason: 'AuditChainBroken' });
    const events = await f.events('RolloutPolicy');
    expect(events.filter((e) => e.reason === 'AuditChainBroken').map((e) => [e.type, e.message])).toEqual([
      ['Warning', where],
    ]);
    expect(events.map((e) => e.reason)).not.toContain('Advanced');
    expect((await f.events('Deployment')).map((e) => e.reason)).toContain('AuditChainBroken');
    const scraped = await metrics.registry.metrics();
    expect(scraped).toContain('kubestead_audit_unhealthy_policies{reason="AuditChainBroken"} 1');
    expect(scraped).toContain('kubestead_audit_unhealthy_policies{reason="AuditBacklogFull"} 0');

    env.prom.set(0.4);
    await f.clock.advance(10_000);
    await f.tick();
    expect(await f.status()).toMatchObject({ phase: 'RolledBack', canaryWeight: 0 });
    const [after] = await segmentMaps(env.sandbox, await policyRef(f));
    expect(after!.data!['chain.jsonl']).toBe(tampered);
    expect(after!.metadata!.resourceVersion).toBe(written.metadata!.resourceVersion);
    // Two late entries wait for the chain: the check's first breach and the rollback it caused.
    expect(recorder.health(await policyRef(f))).toMatchObject({ healthy: false, lateQueued: 2 });

    await core.replaceNamespacedConfigMap({
      name: map!.metadata!.name!,
      namespace: f.namespace,
      body: { ...after!, data: { 'chain.jsonl': original } },
    });
    await waitFor(
      () => recorder.health({ uid: after!.metadata!.labels!['kubestead.io/audit-uid']! }).lateQueued === 0,
      10_000,
      'the late rollback entry',
    );
    await f.tick();
    const repaired = await f.status();
    expect(condition(repaired, 'AuditHealthy')).toMatchObject({ status: 'True', reason: 'AuditHealthy' });
    expect((await f.events('RolloutPolicy')).filter((e) => e.reason === 'AuditRecovered')).toHaveLength(1);
    expect(await metrics.registry.metrics()).toContain(
      'kubestead_audit_unhealthy_policies{reason="AuditChainBroken"} 0',
    );
    const lines = await readChainLines(kubeClients(env.sandbox.kubeConfig()), f.namespace, 'app');
    expect(verifyChain(parseChainText(lines.join('\n'), 'cluster'))).toMatchObject({
      ok: true,
      lastHash: repaired.audit?.head,
    });
    expect(lines.slice(-2).map((line) => JSON.parse(line) as unknown)).toMatchObject([
      { late: true, kind: 'breach' },
      { late: true, decision: { action: 'rollback' } },
    ]);
  }, 60_000);

  it('a foreign segment labelled as the chain is found before an advance, and nothing is written over it', async () => {
    const { f, recorder } = await audited();
    await f.adoptedBy(env.spec());
    const policy = await policyRef(f);
    const [map] = await segmentMaps(env.sandbox, policy);
    const foreignLine = JSON.stringify({
      ...JSON.parse(map!.data!['chain.jsonl']!.split('\n')[0]!),
      seq: 1,
      policy: { ...policy, name: 'other', uid: 'other-uid' },
    });
    const foreign = {
      ...map!.metadata!,
      name: `${map!.metadata!.name!.replace(/-\d+$/, '')}-000007`,
      resourceVersion: undefined,
      uid: undefined,
      creationTimestamp: undefined,
      labels: { ...map!.metadata!.labels, 'kubestead.io/audit-segment': '7' },
    };
    await env.sandbox.client(CoreV1Api).createNamespacedConfigMap({
      namespace: f.namespace,
      body: { metadata: foreign, data: { 'chain.jsonl': `${foreignLine}\n` } },
    });
    const health = await recorder.checkHealth(policy);
    expect(health).toMatchObject({ healthy: false, reason: 'AuditChainBroken' });
    expect(health.message).toContain(`ConfigMap ${f.namespace}/${foreign.name} line 1`);
    await expect(recorder.record(recordOf('advance', 0, 1, { policy }))).rejects.toThrow(
      /advance not recorded: audit chain broken/,
    );
    const after = await segmentMaps(env.sandbox, policy);
    expect(after.map((m) => m.data!['chain.jsonl'])).toEqual([map!.data!['chain.jsonl'], `${foreignLine}\n`]);
  }, 60_000);
});
