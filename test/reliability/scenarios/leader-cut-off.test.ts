import type { Sandbox } from '@kubestead/sandbox';
import { describe, expect, it } from 'vitest';
import { OperatorProcess, type LogLine } from '../../controller/process.js';
import { prometheusTestsEnabled } from '../../metrics/prometheus-harness.js';
import { writesSince } from '../../support/faults.js';
import { chainHoldingI, releaseActuations, replacedIn } from '../../support/rollout-checks.js';
import { raw } from '../../support/sandbox.js';
import { waitFor } from '../../support/wait.js';
import { apply, kubectl, operatorCluster, policyYaml, status, waitForPhase, workloadYaml } from '../../e2e/support.js';

/**
 * Steps of 2 s soak each, 10 % apart over 10 replicas: each advance scales the canary (an actuation of its own, as
 * invariant I checks), so the leader writes every few seconds until it is cut off, and the rollout outlasts the
 * takeover.
 */
const STEPS = 9;
const REPLICAS = 10;
const RENEW_DEADLINE_MS = 10_000;
const RETRY_PERIOD_MS = 2000;

const shortSteps = (ns: string, prometheus: string): string =>
  replacedIn(
    policyYaml(ns, 'checkout', prometheus),
    '    - {weight: 25, soak: 3s}\n    - {weight: 50, soak: 3s}',
    Array.from({ length: STEPS }, (_, i) => `    - {weight: ${10 * (i + 1)}, soak: 2s}`).join('\n'),
  );

const leasePath = (ns: string): string => `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/kubestead-controller`;

const holder = async (sandbox: Sandbox, ns: string): Promise<unknown> =>
  (await raw(sandbox, 'GET', leasePath(ns))).body?.spec?.holderIdentity;

/** The writes of one user (a replica's own token) in `[from, to)`, its Lease's left out, as `METHOD path @time`. */
function writesOf(sandbox: Sandbox, user: string, ns: string, from: number, to = Infinity): string[] {
  return writesSince(sandbox, from)
    .filter((r) => r.user === user && r.path !== leasePath(ns) && r.time < to)
    .map((r) => `${r.method} ${r.path} @${new Date(r.time).toISOString()}`);
}

describe.runIf(prometheusTestsEnabled())('row 3: a leader cut off from its Lease, its process alive', () => {
  const cluster = operatorCluster();

  it('kubestead run --leader-elect whose Lease renewals fail: it stops writing at its renew deadline, the other replica takes over and finishes the rollout (I)', async () => {
    const { sandbox, prom } = cluster;
    const ns = 'leader-cut-off';
    await apply(sandbox, workloadYaml(ns, 'checkout', 'example/checkout:1', REPLICAS));
    await apply(sandbox, shortSteps(ns, prom.url));
    // Each replica with a token of its own, so that the sandbox can cut one off and its log tells them apart.
    const kubeconfigOf = async (user: string): Promise<{ kubeconfigPath: string }> => ({
      kubeconfigPath: await sandbox.addUser(`${user}-token-0123456789`, { username: user, groups: ['system:masters'] }),
    });
    const args = ['-n', ns, '--leader-elect', '--lease-namespace', ns];
    const processes: OperatorProcess[] = [];
    try {
      const a = await OperatorProcess.start(await kubeconfigOf('replica-a'), args);
      processes.push(a);
      const aId = a.lines[0]!.identity;
      await waitFor(async () => (await holder(sandbox, ns)) === aId, 20_000, 'a to lead');
      await waitForPhase(sandbox, ns, 'checkout', 'Idle', 30_000);
      const b = await OperatorProcess.start(await kubeconfigOf('replica-b'), args);
      processes.push(b);
      const bId = b.lines[0]!.identity;

      await kubectl(sandbox, 'set', 'image', 'deployment/checkout', 'app=example/checkout:2', '-n', ns);
      await waitFor(async () => ((await status(sandbox, ns, 'checkout')).currentStep ?? 0) >= 1, 30_000, 'step 2');
      // a's Lease requests fail from now on; everything else it sends is served, so it could go on acting.
      const cutAt = Date.now();
      sandbox.faults.inject({ path: leasePath(ns), user: 'replica-a', respond: 503, times: Infinity });
      const stopped = await waitFor(
        () => a.lines.find((l): l is LogLine => l.msg === 'stopped leading'),
        RENEW_DEADLINE_MS + 10_000,
        'a to stop leading',
      );
      await waitFor(async () => (await holder(sandbox, ns)) === bId, 30_000, 'b to take over');
      await waitForPhase(sandbox, ns, 'checkout', 'Succeeded', 60_000);
      sandbox.faults.clear();

      // a stepped down at its renew deadline, counted from its last renewal the API server answered.
      const renewals = sandbox.requests
        .list({ path: leasePath(ns) })
        .filter((r) => r.user === 'replica-a' && r.method === 'PUT' && r.code === 200);
      const lastRenew = renewals.at(-1)!.time;
      const stoppedAt = Number(stopped.time);
      expect(stopped).toMatchObject({ identity: aId, reason: `no renew within ${RENEW_DEADLINE_MS} ms` });
      expect(lastRenew).toBeLessThanOrEqual(cutAt);
      expect(stoppedAt - lastRenew).toBeGreaterThanOrEqual(RENEW_DEADLINE_MS);
      // the step-down timer's own lateness: well under a retry period
      expect(stoppedAt - lastRenew).toBeLessThan(RENEW_DEADLINE_MS + RETRY_PERIOD_MS);
      // Cut off from its Lease only, a went on acting until then, and wrote nothing after it.
      expect(writesOf(sandbox, 'replica-a', ns, cutAt, stoppedAt).length, 'writes of a while cut off').toBeGreaterThan(
        0,
      );
      expect(writesOf(sandbox, 'replica-a', ns, stoppedAt), 'writes of a after it stopped leading').toEqual([]);
      // b took the Lease after a stopped, acted only from then on, and finished the rollout.
      const takeover = sandbox.requests
        .list({ path: leasePath(ns) })
        .find((r) => r.user === 'replica-b' && r.method === 'PUT' && r.code === 200)!;
      expect(takeover.time).toBeGreaterThan(stoppedAt);
      expect(writesOf(sandbox, 'replica-b', ns, 0, takeover.time), 'writes of b before it led').toEqual([]);
      expect(b.has('became the leader')).toBe(true);
      // Nothing lost, nothing twice: each step advanced once across the two leaders, the chain one line (I).
      const entries = await chainHoldingI(sandbox, ns, 'checkout');
      expect(releaseActuations(entries)).toEqual([
        ...Array.from({ length: STEPS - 1 }, (_, i) => `advance ${i}`),
        `promote ${STEPS - 1}`,
      ]);
    } finally {
      sandbox.faults.clear();
      for (const p of processes) await p.close();
    }
  }, 120_000);
});
