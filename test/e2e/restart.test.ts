import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '@kubestead/sandbox';
import { CRASH_POINTS } from '../../src/runtime/tick/crash.js';
import { prometheusTestsEnabled, type PrometheusHarness } from '../metrics/prometheus-harness.js';
import { raw } from '../support/sandbox.js';
import { actuations, expectInvariantI, verifiedChain, type ChainOwner } from '../support/invariant.js';
import { waitFor } from '../support/wait.js';
import type { OperatorProcess } from '../controller/process.js';
import {
  apply,
  deploymentPath,
  eventsAbout,
  getObject,
  imageOf,
  kubectl,
  operatorCluster,
  policyPath,
  policyYaml,
  waitForPhase,
  workloadYaml,
} from './support.js';

const enabled = prometheusTestsEnabled();

describe.runIf(enabled)('restart safety and failover of real kubestead run processes', () => {
  const cluster = operatorCluster();
  const operator = (namespace: string, extra: string[] = [], crashAt?: string): Promise<OperatorProcess> =>
    cluster.operator(namespace, extra, crashAt);
  let sandbox: Sandbox;
  let prom: PrometheusHarness;
  beforeAll(() => {
    ({ sandbox, prom } = cluster);
  });
  afterEach(() => cluster.closeProcesses());

  /** A namespace with checkout adopted (phase Idle) by an operator that has stopped again. */
  async function adopted(namespace: string): Promise<void> {
    await apply(sandbox, workloadYaml(namespace, 'checkout', 'example/checkout:1'));
    await apply(sandbox, policyYaml(namespace, 'checkout', prom.url));
    const first = await operator(namespace);
    await waitForPhase(sandbox, namespace, 'checkout', 'Idle', 30_000);
    first.kill('SIGTERM');
    await first.exited;
  }

  /**
   * Each step acted on once: the audit chain (verified, invariant I) holds exactly one advance and
   * one promote for the release. Events are at-least-once across kills (a process killed after
   * creating one creates it again), so they are only required to be there, as distinct messages.
   */
  async function expectOnceEach(namespace: string, reasons: string[]): Promise<void> {
    const head = (await getObject(sandbox, policyPath(namespace, 'checkout'))).status?.audit as ChainOwner['head'];
    const entries = await verifiedChain({ kubeconfigPath: sandbox.kubeconfigPath, namespace, name: 'checkout', head });
    expectInvariantI(entries, { cluster: { sandbox, namespace } });
    const release = entries.at(-1)!.revision;
    expect(actuations(entries.filter((e) => e.revision === release))).toEqual(['advance 0', 'promote 1']);
    const events = await eventsAbout(sandbox, namespace, 'RolloutPolicy', 'checkout');
    for (const reason of reasons)
      expect(events.filter((e) => e.startsWith(`${reason}:`)).length, reason).toBeGreaterThan(0);
    expect(events.filter((e) => /^(Scaled|WeightDrift)/.test(e))).toEqual([]);
  }

  /** Polls the policy's status until Succeeded, noting each (step, weight) it passed through. */
  async function followToSuccess(namespace: string): Promise<string[]> {
    const seen: string[] = [];
    await waitFor(
      async () => {
        const s = (await getObject(sandbox, policyPath(namespace, 'checkout'))).status ?? {};
        const mark = `${s.phase as string} ${String(s.currentStep)} ${String(s.canaryWeight)}`;
        if (s.phase === 'Progressing' && seen[seen.length - 1] !== mark) seen.push(mark);
        return s.phase === 'Succeeded';
      },
      90_000,
      `${namespace}: the release to succeed`,
    );
    return seen;
  }

  it.each(crashPoints())(
    'SIGKILL %s: a new process finishes the rollout, no step repeated or skipped',
    async (point) => {
      const namespace = `crash-${point}`;
      await adopted(namespace);
      await kubectl(sandbox, 'set', 'image', 'deployment/checkout', 'app=example/checkout:2', '-n', namespace);
      const doomed = await operator(namespace, [], point);
      expect(await doomed.exited).toEqual({ code: 137, signal: null });
      await operator(namespace);
      const seen = await followToSuccess(namespace);
      const steps = seen.map((m) => m.split(' ').slice(1).join(' '));
      expect(steps.filter((s) => s !== 'undefined undefined')).toEqual(expect.arrayContaining(['1 50']));
      expect(steps.indexOf('1 50')).toBeGreaterThanOrEqual(steps.lastIndexOf('0 25'));
      expect(imageOf(await getObject(sandbox, deploymentPath(namespace, 'checkout-primary')))).toBe(
        'example/checkout:2',
      );
      const primary = await getObject(sandbox, deploymentPath(namespace, 'checkout-primary'));
      expect(primary.spec.replicas).toBe(4);
      await expectOnceEach(namespace, ['CanaryStarted', 'Advanced', 'Promoted']);
    },
    180_000,
  );

  it('leader failover: two processes; the leader is SIGKILLed mid-rollout; the other takes over within the lease duration and completes it', async () => {
    const namespace = 'failover';
    await adopted(namespace);
    const leaseArgs = ['--leader-elect', '--lease-namespace', namespace];
    const a = await operator(namespace, leaseArgs);
    await waitFor(
      async () =>
        (await raw(sandbox, 'GET', `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases/kubestead-controller`))
          .body?.spec?.holderIdentity === a.lines[0]!.identity,
      20_000,
      'a to lead',
    );
    const b = await operator(namespace, leaseArgs);
    await kubectl(sandbox, 'set', 'image', 'deployment/checkout', 'app=example/checkout:2', '-n', namespace);
    await waitFor(
      async () => (await getObject(sandbox, policyPath(namespace, 'checkout'))).status?.phase === 'Progressing',
      30_000,
      'the canary to start',
    );
    const leasePath = `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases/kubestead-controller`;
    a.kill('SIGKILL');
    await a.exited;
    const lastRenewal = Date.parse(String((await raw(sandbox, 'GET', leasePath)).body?.spec?.renewTime));
    const taken = await waitFor(
      async () => {
        const lease = (await raw(sandbox, 'GET', leasePath)).body?.spec as
          { holderIdentity?: string; acquireTime?: string } | undefined;
        return lease?.holderIdentity === b.lines[0]!.identity && lease;
      },
      40_000,
      'b to take over',
    );
    // By the lease's own times, not the test's (a loaded machine delays the test's polling): b took
    // the lease once a's had expired (15 s after its last renewal), within a retry period (2 s) and
    // a margin for scheduling.
    const waited = Date.parse(String(taken.acquireTime)) - lastRenewal;
    expect(waited).toBeGreaterThanOrEqual(15_000 - 1000);
    expect(waited).toBeLessThan(15_000 + 2000 + 5000);
    await followToSuccess(namespace);
    await expectOnceEach(namespace, ['Advanced', 'Promoted']);
    const primary = await getObject(sandbox, deploymentPath(namespace, 'checkout-primary'));
    expect(imageOf(primary)).toBe('example/checkout:2');
    expect(primary.spec.replicas).toBe(4);
  }, 180_000);
});

function crashPoints(): string[] {
  return [...CRASH_POINTS];
}
