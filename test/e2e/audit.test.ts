import { beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../src/pipeline/record/audit/entry.js';
import type { Sandbox } from '@kubestead/sandbox';
import { CRASH_POINTS } from '../../src/runtime/tick/crash.js';
import type { OperatorProcess } from '../controller/process.js';
import { prometheusTestsEnabled, type PrometheusHarness } from '../metrics/prometheus-harness.js';
import { raw } from '../support/sandbox.js';
import { expectInvariantI, verifiedChain } from '../support/invariant.js';
import { waitFor } from '../support/wait.js';
import {
  apply,
  eventsAbout,
  kubectl,
  operatorCluster,
  policyYaml,
  status,
  waitForPhase,
  workloadYaml,
} from './support.js';

const enabled = prometheusTestsEnabled();
const ERROR_RATIO =
  'sum(rate(http_requests_total{app="checkout",track="canary",code="500"}[5s])) / sum(rate(http_requests_total{app="checkout",track="canary"}[5s]))';

/** What Prometheus answers now for `query` at `time` (ISO): the value as the controller parses it. */
async function promValue(prom: PrometheusHarness, query: string, time: string): Promise<number> {
  const form = new URLSearchParams({ query, time: (Date.parse(time) / 1000).toFixed(3) });
  const res = await fetch(`${prom.url}/api/v1/query`, { method: 'POST', body: form });
  const body = (await res.json()) as { data: { result: Array<{ value: [number, string] }> } };
  return Number(body.data.result[0]?.value[1]);
}

type Status = {
  phase?: string;
  canaryRevision?: string;
  stableRevision?: string;
  audit?: { head: string; seq: number };
  conditions?: Array<{ type: string }>;
};

/**
 * Two policies' chains through everything that can happen to a controller, side by side: a SIGKILL
 * at every boundary of a tick (one release), a leader change mid-rollout and then a rollback after
 * a kill (the other); real `kubestead run` processes, the real Prometheus, the real CLI to export
 * and verify.
 */
describe.runIf(enabled)('audited rollouts in the sandbox: kills, a leader change, a rollback', () => {
  const cluster = operatorCluster();
  let sandbox: Sandbox;
  let prom: PrometheusHarness;
  beforeAll(() => {
    ({ sandbox, prom } = cluster);
  });

  async function stopped(proc: OperatorProcess): Promise<void> {
    proc.kill('SIGTERM');
    expect((await proc.exited).code).toBe(0);
  }

  const statusOf = async (ns: string): Promise<Status> => (await status(sandbox, ns, 'checkout')) as Status;
  const setImage = (ns: string, image: string) =>
    kubectl(sandbox, 'set', 'image', 'deployment/checkout', `app=${image}`, '-n', ns);

  /** Runs a process until the policy reaches `phase` (for the revision changed since `before`, when given), then stops it. */
  async function runUntil(ns: string, phase: string, extra: string[] = []): Promise<void> {
    const proc = await cluster.operator(ns, extra);
    await waitForPhase(sandbox, ns, 'checkout', phase, 60_000);
    await stopped(proc);
  }

  /** A new release, and the status once its canary has started (its revision differs from the one before). */
  async function release(ns: string, image: string): Promise<() => Promise<Status | undefined>> {
    const before = await statusOf(ns);
    await setImage(ns, image);
    return async () => {
      const s = await statusOf(ns);
      return s.phase === 'Progressing' && s.canaryRevision !== before.canaryRevision ? s : undefined;
    };
  }

  async function adopted(ns: string): Promise<void> {
    await apply(sandbox, workloadYaml(ns, 'checkout', 'example/checkout:1'));
    await apply(sandbox, policyYaml(ns, 'checkout', prom.url));
    await runUntil(ns, 'Idle');
  }

  /** The chain, exported and verified against status.audit.head with the real CLI; invariant I holds over it. */
  async function exportedChain(ns: string): Promise<AuditEntry[]> {
    const head = (await statusOf(ns)).audit!;
    const entries = await verifiedChain({
      kubeconfigPath: sandbox.kubeconfigPath,
      namespace: ns,
      name: 'checkout',
      head,
    });
    expectInvariantI(entries, { cluster: { sandbox, namespace: ns } });
    return entries;
  }

  /** Every decision entry holds the values Prometheus answered (the same query at the same time gives the same number), once; Events say the same. */
  async function expectDecisions(ns: string, entries: AuditEntry[], expected: string[]): Promise<void> {
    const decisions = entries.filter((e) => e.kind === 'decision');
    const revisions = [...new Set(decisions.map((e) => e.revision))];
    expect(decisions.map((e) => `${e.decision!.action} ${revisions.indexOf(e.revision)}`)).toEqual(expected);
    for (const entry of decisions) {
      const check = entry.snapshot!.checks.errors!;
      expect(check.status, `seq ${entry.seq}`).toBe('ok');
      expect(check.query).toBe(ERROR_RATIO);
      expect(
        await promValue(prom, check.query, check.observedAt ?? entry.snapshot!.time),
        `seq ${entry.seq} ${entry.decision!.action}`,
      ).toBe(check.value);
    }
    // Events are at-least-once (a process killed after creating one creates it again); the chain holds each decision once
    const reasons: Record<string, string> = { advance: 'Advanced', promote: 'Promoted', rollback: 'RolledBack' };
    const events = await eventsAbout(sandbox, ns, 'RolloutPolicy', 'checkout');
    expect(new Set(events.filter((e) => /^(Advanced|Promoted|RolledBack):/.test(e)))).toEqual(
      new Set(decisions.map((e) => `${reasons[e.decision!.action]}: ${e.message}`)),
    );
    const final = await statusOf(ns);
    expect(final.audit).toEqual({ head: entries.at(-1)!.hash, seq: entries.at(-1)!.seq });
    expect(final.conditions?.find((c) => c.type === 'AuditHealthy')).toMatchObject({
      status: 'True',
      reason: 'AuditHealthy',
    });
  }

  /** A release during which the controller is SIGKILLed at each boundary of a tick in turn, then one that finishes it. */
  async function killedAtEveryBoundary(ns: string): Promise<void> {
    await adopted(ns);
    await release(ns, 'example/checkout:2');
    for (const point of CRASH_POINTS) {
      const doomed = await cluster.operator(ns, [], point);
      expect(await doomed.exited, point).toEqual({ code: 137, signal: null });
    }
    await runUntil(ns, 'Succeeded');
  }

  /** A release whose leader is SIGKILLed mid-rollout (the other replica finishes it); then, once `breachAllowed`, a failing canary rolled back across a kill. */
  async function leaderChangeThenRollback(ns: string, breachAllowed: Promise<void>): Promise<AuditEntry[]> {
    await adopted(ns);
    const leaseArgs = ['--leader-elect', '--lease-namespace', ns];
    const a = await cluster.operator(ns, leaseArgs);
    await waitFor(
      async () =>
        (await raw(sandbox, 'GET', `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/kubestead-controller`)).body
          ?.spec?.holderIdentity === a.lines[0]!.identity,
      20_000,
      'a to lead',
    );
    const b = await cluster.operator(ns, leaseArgs);
    const started = await waitFor(await release(ns, 'example/checkout:3'), 30_000, 'the canary of checkout:3 under a');
    a.kill('SIGKILL');
    await waitFor(
      async () => {
        const s = await statusOf(ns);
        return s.phase === 'Succeeded' && s.stableRevision === started.canaryRevision;
      },
      60_000,
      'b to finish checkout:3',
    );
    await stopped(b);
    const beforeRollback = await exportedChain(ns);
    await breachAllowed;
    prom.exporter.canaryErrors = 40;
    await waitFor(
      async () => (await promValue(prom, ERROR_RATIO, new Date().toISOString())) > 0.2,
      30_000,
      'the breach in Prometheus',
    );
    await setImage(ns, 'example/checkout:4');
    const doomed = await cluster.operator(ns, [], 'after-record');
    expect(await doomed.exited).toEqual({ code: 137, signal: null });
    await runUntil(ns, 'RolledBack');
    return beforeRollback;
  }

  it('each chain verifies against status.audit.head, has no seq gap, and holds each decision once with the values Prometheus answered', async () => {
    const killed = killedAtEveryBoundary('killed');
    const failover = leaderChangeThenRollback(
      'failover',
      killed.catch(() => undefined),
    );
    await Promise.all([killed, failover]);

    await expectDecisions('killed', await exportedChain('killed'), ['advance 0', 'promote 0']);
    const entries = await exportedChain('failover');
    const beforeRollback = await failover;
    expect(entries.slice(0, beforeRollback.length)).toEqual(beforeRollback);
    await expectDecisions('failover', entries, ['advance 0', 'promote 0', 'rollback 1']);
    expect(entries.find((e) => e.decision?.action === 'rollback')!.snapshot!.checks.errors!.value).toBeGreaterThan(0.2);
  }, 300_000);
});
