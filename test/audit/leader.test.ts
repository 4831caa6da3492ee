import { CustomObjectsApi } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditRecorder } from '../../src/pipeline/record/audit/index.js';
import type { AuditEntry } from '../../src/pipeline/record/audit/entry.js';
import { policyPath } from '../../src/adapters/kube/names.js';
import { systemClock } from '../../src/lib/clock/clock.js';
import { ManualClock } from '../support/manual-clock.js';
import { startOperator, type RunningOperator } from '../../src/runtime/controller/operator.js';
import { silentLogger } from '../../src/lib/log/logger.js';
import type { PolicyRef, Recorder } from '../../src/pipeline/record/recorder.js';
import type { Sandbox } from '@kubestead/sandbox';
import { staticSecretReader } from '../../src/adapters/secrets/reader.js';
import { waitFor } from '../support/wait.js';
import { RecordingReconciler } from '../controller/recording-reconciler.js';
import { auditSandbox, createPolicy } from './cluster.js';
import { newSecret, TestReceiver } from './receiver.js';
import { recordOf } from './records.js';

describe('the operator and the audit recorder: a new leader resumes delivery, a deleted policy is forgotten', () => {
  let sandbox: Sandbox;
  let receiver: TestReceiver;
  let url: string;
  const secret = newSecret();
  const stops: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    sandbox = await auditSandbox();
    receiver = new TestReceiver();
    url = await receiver.start();
  });
  afterAll(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
    await receiver?.close();
    await sandbox?.close();
  });

  function recorder(): AuditRecorder {
    const made = new AuditRecorder(sandbox.kubeConfig(), systemClock, silentLogger, {
      webhook: { url, format: 'json', secretRef: { namespace: 'kubestead', name: 'siem', key: 'hmac' } },
      secrets: staticSecretReader({ 'kubestead/siem/hmac': secret }),
      delivery: { baseBackoffMs: 20, maxBackoffMs: 100, timeoutMs: 2000 },
    });
    stops.push(() => made.stop());
    return made;
  }

  async function operator(clock: ManualClock, identity: string, audit: AuditRecorder): Promise<RunningOperator> {
    const op = await startOperator({
      kubeConfig: sandbox.kubeConfig(),
      logger: silentLogger,
      namespace: 'lead',
      clock,
      identity,
      leaderElect: true,
      leaseNamespace: 'lead',
      recorder: audit,
      reconcilerFactory: () => new RecordingReconciler({ requeueAfterMs: 10_000 }),
      tuning: { relatedDelayMs: 0, shutdownGraceMs: 0 },
    });
    stops.push(() => op.stop());
    return op;
  }

  /** Moves the operators' clock in lease-sized steps until `until` holds. */
  async function runUntil(clock: ManualClock, until: () => boolean, what: string): Promise<void> {
    await waitFor(
      async () => {
        if (until()) return true;
        await clock.advance(500);
        await new Promise((r) => setTimeout(r, 15));
        return until();
      },
      20_000,
      what,
    );
  }

  it('entries the old leader stored but could not deliver reach the SIEM from the new leader, in order, with no new record', async () => {
    let up = false;
    receiver.behaviour = () => ({ status: up ? 204 : 503 });
    const policy = await createPolicy(sandbox, 'lead', 'checkout');
    const clock = new ManualClock();
    const [a, b] = [recorder(), recorder()];
    const opA = await operator(clock, 'replica-a', a);
    await waitFor(() => opA.isLeader(), 8000, 'a to lead');
    const opB = await operator(clock, 'replica-b', b);
    for (let i = 0; i < 3; i += 1)
      await a.record(recordOf('advance', i, i, { policy, revision: `r${i}`, controller: 'replica-a' }));
    await waitFor(() => receiver.requests.length >= 2, 8000, 'failing delivery attempts');
    expect(receiver.entries()).toEqual([]);
    await opA.stop();
    await a.stop();
    up = true;
    await runUntil(clock, () => opB.isLeader(), 'b to take over');
    // a's three records and the two leader changes (a's, then b's), all delivered by b
    await waitFor(() => receiver.entries().length === 5, 8000, 'the entries from the new leader');
    expect(receiver.entries().map((e) => e.seq)).toEqual([0, 1, 2, 3, 4]);
    await b.deliveriesIdle();
    expect(b.health(policy).backlog).toBe(0);
    const entries = receiver.entries() as unknown as AuditEntry[];
    const leaders = entries
      .filter((e) => e.decision?.reasons[0]?.rule === 'leader-change')
      .map((e) => [e.kind, e.controller, e.message]);
    expect(leaders).toEqual([
      ['event', 'replica-a', 'replica-a became the leader'],
      ['event', 'replica-b', 'replica-b became the leader'],
    ]);
    expect(entries.at(-1)!.controller).toBe('replica-b');
  }, 60_000);

  it('a deleted policy: the recorder forgets it (its delivery backlog is no longer held)', async () => {
    let up = false;
    receiver.behaviour = () => ({ status: up ? 204 : 503 });
    const policy: PolicyRef = await createPolicy(sandbox, 'lead', 'gone');
    const clock = new ManualClock();
    const audit = recorder();
    const op = await operator(clock, 'replica-c', audit);
    await runUntil(clock, () => op.isLeader(), 'c to lead');
    await audit.record(recordOf('advance', 0, 1, { policy }));
    // the leader change and the advance, neither delivered
    await waitFor(() => audit.health(policy).backlog === 2, 8000, 'a backlog of two');
    await sandbox.client(CustomObjectsApi).deleteNamespacedCustomObject(policyPath('lead', 'gone'));
    await waitFor(() => audit.health(policy).backlog === 0, 8000, 'the policy forgotten');
    up = true;
  }, 60_000);

  it('a new leader resumes the trail of many policies a few at a time (a burst would open a connection each), and of every one', async () => {
    const policies = await Promise.all(Array.from({ length: 40 }, (_, i) => createPolicy(sandbox, 'many', `app-${i}`)));
    const [leaderChanges, resumed] = [new Set<string>(), new Set<string>()];
    let [running, mostAtOnce] = [0, 0];
    const slowly = async <T>(work: () => T): Promise<T> => {
      mostAtOnce = Math.max(mostAtOnce, ++running);
      await new Promise((r) => setTimeout(r, 5)); // as long as a read of the API server: the calls overlap
      running -= 1;
      return work();
    };
    const counting: Recorder = {
      record: (entry) =>
        slowly(() => {
          leaderChanges.add(entry.policy.uid);
          return {};
        }),
      deliverPending: (policy) =>
        slowly(() => {
          resumed.add(policy.uid);
        }),
    };
    const op = await startOperator({
      kubeConfig: sandbox.kubeConfig(),
      logger: silentLogger,
      namespace: 'many',
      clock: new ManualClock(),
      identity: 'replica-d',
      leaderElect: true,
      leaseNamespace: 'many',
      recorder: counting,
      reconcilerFactory: () => new RecordingReconciler({ requeueAfterMs: 10_000 }),
      tuning: { relatedDelayMs: 0, shutdownGraceMs: 0 },
    });
    stops.push(() => op.stop());
    await waitFor(() => resumed.size === policies.length, 8000, 'every policy resumed');
    expect([...leaderChanges].sort()).toEqual(policies.map((p) => p.uid).sort());
    expect(mostAtOnce).toBeGreaterThan(1);
    expect(mostAtOnce).toBeLessThanOrEqual(8);
  }, 60_000);
});
